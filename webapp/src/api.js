// The public HTTP API of pbx-control, nothing else.
const PREFIX = "/api/v1";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function token() {
  return sessionStorage.getItem("pbx.token");
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const tok = token();
  if (tok) headers.Authorization = `Bearer ${tok}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(PREFIX + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = r.status === 204 ? null : await r.json().catch(() => null);
  if (!r.ok) {
    const err = (data && data.error) || {};
    throw new ApiError(r.status, err.code || "error", err.message || r.statusText);
  }
  return data;
}

export async function signIn(username, password) {
  const out = await api("POST", "/auth/login", { username, password });
  sessionStorage.setItem("pbx.token", out.token);
  return out;
}

export async function signOut() {
  try {
    await api("POST", "/auth/logout");
  } finally {
    sessionStorage.removeItem("pbx.token");
  }
}
