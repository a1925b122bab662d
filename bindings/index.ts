/**
 * The whole KSR surface, in one list. Adding a binding = one file + one line here; no engine
 * changes. Order matters only for `kemihost api` output.
 */
import type { AnyModuleDef } from '../host/kemi/types.js';
import async from './async.js';
import asyncHttp from './async-http.js';
import auth from './auth/index.js';
import authDb from './auth-db/index.js';
import core from './core.js';
import corex from './corex.js';
import dispatcher from './dispatcher.js';
import hdr from './hdr.js';
import htable from './htable.js';
import httpAsyncClient from './http-async-client.js';
import httpClient from './http-client/index.js';
import jsonrpc from './jsonrpc.js';
import jsonrpcs from './jsonrpcs.js';
import kx from './kx.js';
import maxfwd from './maxfwd.js';
import nathelper from './nathelper/index.js';
import textops from './textops.js';
import textopsx from './textopsx.js';
import sdpops from './sdpops.js';
import permissions from './permissions.js';
import pike from './pike.js';
import pv from './pv.js';
import pvx from './pvx.js';
import registrar from './registrar.js';
import rr from './rr.js';
import rtpengine from './rtpengine.js';
import rtpproxy from './rtpproxy.js';
import sanity from './sanity.js';
import siptrace from './siptrace.js';
import siputils from './siputils.js';
import sqlops from './sqlops/index.js';
import sl from './sl.js';
import tm from './tm.js';
import dialog from './dialog.js';
import tmx from './tmx.js';
import uac from './uac.js';
import usrloc from './usrloc.js';
import x from './x.js';
import xlog from './xlog.js';
import xhttp from './xhttp.js';

export const MODULES: readonly AnyModuleDef[] = [core, x, pv, hdr, sl, kx, siputils, maxfwd, corex, sanity, htable, xhttp, tm, tmx, rr, usrloc, registrar, async, httpAsyncClient, asyncHttp, httpClient, jsonrpc, jsonrpcs, permissions, pike, rtpengine, rtpproxy, auth, authDb, xlog, uac, nathelper, textops, textopsx, sdpops, dispatcher, dialog, pvx, siptrace, sqlops];
