// Click to call from the web: the app offers itself as the browser's handler of tel: (and sip:) links
// (navigator.registerProtocolHandler, asked from Settings: the browser asks the user to confirm).
// A link clicked anywhere then opens "/?call=<the link>"; the app, once signed in, calls the number
// (from the page's softphone when it is ready, else by click-to-call). callto: is not in the browsers'
// list of schemes a page may handle (HTML's safelist), so a callto: link cannot be handed to a page;
// "/?call=callto:..." is understood all the same.
const SCHEMES = ["tel", "sip"];
const PENDING = "pbx.call";
const READY_WAIT_MS = 10000;

export function linkTarget(raw) {
  let text = String(raw || "").trim();
  try {
    text = decodeURIComponent(text);
  } catch {
    /* kept as it came */
  }
  text = text.replace(/^(tel|callto|sip|web\+callto):(\/\/)?/i, "").split(/[;?@]/)[0];
  text = text.replace(/[\s\-().]/g, "");
  return /^\+?[0-9*#]{1,32}$/.test(text) ? text : null;
}

export function registerHandlers() {
  if (!navigator.registerProtocolHandler) return false;
  for (const scheme of SCHEMES) navigator.registerProtocolHandler(scheme, `${location.origin}/?call=%s`);
  return true;
}

// A call asked for in the address (a tel: link), kept until the user has signed in.
export function takeLinkFromAddress() {
  const url = new URL(location.href);
  const raw = url.searchParams.get("call");
  if (raw === null) return;
  const target = linkTarget(raw);
  if (target) sessionStorage.setItem(PENDING, target);
  url.searchParams.delete("call");
  history.replaceState(null, "", url.pathname + url.search + url.hash);
}

export async function callPendingLink(phone, placeCall) {
  const target = sessionStorage.getItem(PENDING);
  if (!target) return;
  sessionStorage.removeItem(PENDING);
  const started = Date.now();
  while (phone.status === "connecting" && Date.now() - started < READY_WAIT_MS) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await placeCall(target);
}
