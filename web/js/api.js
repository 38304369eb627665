// The only place that calls fetch(): one function per endpoint. The session cookie rides along.
async function call(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? {} : {'Content-Type': 'application/json'},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(data.detail || res.statusText), {status: res.status});
  return data;
}

export const me = () => call('GET', '/api/me');
