/** Poll until `cond` holds (a connection made, a statistic reached); reject after timeoutMs. */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
