/*
 * A browser-like client of the dashboard over plain HTTP: it keeps the cookies it is given
 * (the session, the CSRF secret) and reads a form's CSRF token, as a browser would post it.
 */
export function adminClient(base: string) {
  const jar = new Map<string, string>();
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const at = pair.indexOf('=');
      jar.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return res;
  };
  const cookie = () => [...jar].filter(([, v]) => v !== '').map(([k, v]) => `${k}=${v}`).join('; ');
  const get = async (p: string) => keep(await fetch(base + p, { headers: { cookie: cookie(), accept: 'text/html' }, redirect: 'manual' }));
  const post = async (p: string, form: Record<string, string>) =>
    keep(await fetch(base + p, { method: 'POST', headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, body: new URLSearchParams(form).toString(), redirect: 'manual' }));
  const token = (page: string) => /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
  return {
    get,
    post,
    token,
    async login(user: string, password: string) {
      const form = await get('/admin/login');
      return post('/admin/login', { _csrf: token(await form.text()), username: user, password });
    },
  };
}
