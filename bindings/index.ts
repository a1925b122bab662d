/**
 * The whole KSR surface, in one list. Adding a binding = one file + one line here; no engine
 * changes. Order matters only for `kemihost api` output.
 */
import type { AnyModuleDef } from '../host/kemi/types.js';
import async from './async.js';
import asyncHttp from './async-http.js';
import core from './core.js';
import corex from './corex.js';
import hdr from './hdr.js';
import htable from './htable.js';
import httpAsyncClient from './http-async-client.js';
import jsonrpc from './jsonrpc.js';
import kx from './kx.js';
import maxfwd from './maxfwd.js';
import pv from './pv.js';
import sanity from './sanity.js';
import siputils from './siputils.js';
import sl from './sl.js';
import tm from './tm.js';
import tmx from './tmx.js';
import x from './x.js';
import xhttp from './xhttp.js';

export const MODULES: readonly AnyModuleDef[] = [core, x, pv, hdr, sl, kx, siputils, maxfwd, corex, sanity, htable, xhttp, tm, tmx, async, httpAsyncClient, asyncHttp, jsonrpc];
