// Live updates over the events WebSocket (GET /events), opened with a single-use ticket from
// POST /events/tickets (a browser cannot send the bearer token in a header, and it never goes in a URL).
// Every event carries seq and epoch; after a drop the page reconnects with ?since=<seq>&epoch=<epoch>
// and gets exactly what it missed (events.resumed), or events.lost and a fresh hello: then every
// screen reads its state again ("resync"). The screens subscribe with live().on(fn).
import { api, ApiError } from "./api.js";

const RETRY_MS = [500, 1000, 2000, 4000, 8000];
const CLOSE_TOO_SLOW = 4008;

class Live {
  constructor() {
    this.listeners = new Set();
    this.stateListeners = new Set();
    this.seq = null;
    this.epoch = null;
    this.ws = null;
    this.state = "connecting"; // connecting, open, lost, stopped
    this.resume = ""; // how the last reconnect went: "resumed" or "lost"
    this.attempt = 0;
    this.timer = null;
    this.started = false;
  }

  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onState(fn) {
    this.stateListeners.add(fn);
    fn(this);
  }

  setState(state) {
    this.state = state;
    for (const fn of [...this.stateListeners]) fn(this);
  }

  emit(event) {
    for (const fn of [...this.listeners]) {
      try {
        fn(event);
      } catch {
        /* one screen's trouble is not the others' */
      }
    }
  }

  async connect() {
    if (this.state === "stopped") return;
    let ticket;
    try {
      ticket = (await api("POST", "/events/tickets", {})).ticket;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        // Signed out elsewhere, or the token expired (the socket closes with 4001 then): sign in again.
        this.stop();
        window.dispatchEvent(new Event("pbx:signed-out"));
        return;
      }
      return this.retry();
    }
    const params = new URLSearchParams({ ticket });
    if (this.seq !== null && this.epoch) {
      params.set("since", String(this.seq));
      params.set("epoch", this.epoch);
    }
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/api/v1/events?${params}`);
    this.ws = ws;
    ws.addEventListener("message", (m) => {
      if (this.ws === ws) this.message(JSON.parse(m.data));
    });
    ws.addEventListener("close", (e) => {
      if (e.code === CLOSE_TOO_SLOW) this.seq = null; // what was missed is not kept: a fresh hello
      if (this.ws === ws) this.dropped();
    });
  }

  message(event) {
    if (event.epoch) this.epoch = event.epoch;
    // events.resumed's seq is where the replay ends: the replayed events that follow move it there.
    if (typeof event.seq === "number" && event.type !== "events.resumed") this.seq = event.seq;
    if (event.type === "events.resumed" || event.type === "hello") {
      if (this.state === "lost" || this.attempt > 0) this.resume = event.type === "hello" ? "lost" : "resumed";
      this.attempt = 0;
      this.setState("open");
    }
    if (event.type === "events.lost" && this.state === "open") {
      // Seen live: the server fell behind; start again from a fresh hello.
      this.seq = null;
      if (this.ws) this.ws.close(1000);
      return;
    }
    if (event.type === "hello" || event.type === "model.reset") this.emit({ type: "resync" });
    this.emit(event);
  }

  dropped() {
    this.ws = null;
    if (this.state === "stopped") return;
    this.setState("lost");
    this.retry();
  }

  retry() {
    if (this.state === "stopped") return;
    if (this.state !== "lost") this.setState("lost");
    const wait = RETRY_MS[Math.min(this.attempt, RETRY_MS.length - 1)];
    this.attempt += 1;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), wait);
  }

  stop() {
    this.setState("stopped");
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }
}

let current = null;

export function live() {
  if (!current) current = new Live();
  return current;
}

// The screens listen again after a redraw; the connection is made once per sign-in, after `before`
// (the page's web device must exist first: the server decides at connect time whose calls I see).
export function startLive(before = Promise.resolve()) {
  const l = live();
  l.listeners.clear();
  l.stateListeners.clear();
  if (!l.started) {
    l.started = true;
    before.catch(() => {}).then(() => l.connect());
  }
  return l;
}

export function stopLive() {
  if (current) current.stop();
  current = null;
}

// Calls fn (debounced) whenever one of the event types, or a resync, arrives.
export function whenever(types, fn, delayMs = 100) {
  let timer = null;
  return live().on((event) => {
    if (event.type !== "resync" && !types.some((t) => event.type === t || event.type.startsWith(`${t}.`))) return;
    clearTimeout(timer);
    timer = setTimeout(fn, delayMs);
  });
}
