// The app's own softphone: the signed-in user's web device (POST /users/me/webphone makes it once,
// then the same account), registered over SIP/WebSocket with JsSIP (softphone.js). One controller per
// signed-in page; the UI pieces (the phone bar, the incoming call screen, the dial pad) listen to it.
import JsSIP from "jssip";
import { api } from "./api.js";
import { Softphone } from "./softphone.js";

const STATS_MS = 1000;

class PhoneController {
  constructor() {
    this.status = "off"; // off, connecting, registered, failed
    this.call = null; // null or {direction, state: ringing|calling|confirmed|held, peer, name}
    this.audio = { inbound: 0, outbound: 0, pair: null };
    this.listeners = new Set();
    this.phone = null;
    this.account = null;
    this.output = localStorage.getItem("pbx.audio.output") || "";
    this.input = localStorage.getItem("pbx.audio.input") || "";
    this.timer = null;
  }

  onChange(fn) {
    this.listeners.add(fn);
    fn(this);
    return () => this.listeners.delete(fn);
  }

  emit() {
    for (const fn of [...this.listeners]) fn(this);
  }

  // The web device's account (made on first use), asked once.
  ensureAccount() {
    if (!this.accountAsked) this.accountAsked = api("POST", "/users/me/webphone", {}).then((a) => (this.account = a));
    return this.accountAsked;
  }

  async start() {
    if (this.phone || this.starting) return;
    this.starting = true;
    this.status = "connecting";
    this.emit();
    try {
      await this.ensureAccount();
      const audioElement = new Audio();
      audioElement.autoplay = true;
      this.audioElement = audioElement;
      this.phone = new Softphone(JsSIP, this.account, {
        audioElement,
        onState: (s) => this.state(s),
        onIncoming: (number, name) => {
          this.call = { direction: "in", state: "ringing", peer: number, name: name || "" };
          this.emit();
        },
      });
      this.applyDevices();
      await this.phone.register();
    } catch {
      this.status = "failed";
      this.emit();
    } finally {
      this.starting = false;
    }
  }

  state(s) {
    if (s === "registered") this.status = "registered";
    else if (s === "registration-failed" || s === "disconnected") this.status = "failed";
    else if (s === "confirmed" && this.call) this.call.state = "confirmed";
    else if (s === "held" && this.call) this.call.state = "held";
    else if (s === "resumed" && this.call) this.call.state = "confirmed";
    else if (s === "ended" || s === "failed") this.ended();
    if (this.call && this.call.state === "confirmed" && !this.timer) {
      this.timer = setInterval(() => this.measure(), STATS_MS);
    }
    this.emit();
  }

  ended() {
    this.call = null;
    clearInterval(this.timer);
    this.timer = null;
  }

  async measure() {
    if (!this.phone || !this.call) return;
    const s = await this.phone.stats();
    this.audio = { inbound: s.inboundPackets, outbound: s.outboundPackets, pair: s.candidatePair };
    this.emit();
  }

  get ready() {
    return this.status === "registered" && !this.call;
  }

  async dial(target) {
    this.call = { direction: "out", state: "calling", peer: target, name: "" };
    this.audio = { inbound: 0, outbound: 0, pair: null };
    this.emit();
    try {
      await this.phone.call(target);
    } catch {
      this.ended();
      this.emit();
    }
  }

  async answer() {
    if (!this.call || this.call.state !== "ringing") return;
    this.audio = { inbound: 0, outbound: 0, pair: null };
    this.call.state = "answering";
    this.emit();
    await this.phone.answer().catch(() => {});
  }

  decline() {
    if (this.call && this.call.state === "ringing") this.phone.hangup();
  }

  hangup() {
    if (this.phone) this.phone.hangup();
  }

  mute(on) {
    if (!this.phone || !this.call) return;
    this.phone.mute(on);
    this.call.muted = on;
    this.emit();
  }

  dtmf(tones) {
    if (this.phone && this.call) this.phone.dtmf(tones);
  }

  // Audio devices chosen in Settings: the microphone for the next call, the speaker at once.
  setDevices({ input, output }) {
    if (input !== undefined) {
      this.input = input;
      localStorage.setItem("pbx.audio.input", input);
    }
    if (output !== undefined) {
      this.output = output;
      localStorage.setItem("pbx.audio.output", output);
    }
    this.applyDevices();
  }

  applyDevices() {
    if (!this.phone) return;
    this.phone.constraints = this.input ? { audio: { deviceId: { exact: this.input } } } : { audio: true };
    if (this.phone.stream && this.input) {
      this.phone.stream.getTracks().forEach((track) => track.stop());
      this.phone.stream = null; // the next call opens the chosen microphone
    }
    if (this.audioElement && this.audioElement.setSinkId) this.audioElement.setSinkId(this.output).catch(() => {});
  }

  stop() {
    if (this.phone) this.phone.stop();
    this.phone = null;
    this.ended();
    this.status = "off";
    this.emit();
  }
}

let controller = null;

export function phone() {
  if (!controller) controller = new PhoneController();
  return controller;
}

export function stopPhone() {
  if (controller) controller.stop();
  controller = null;
}

window.addEventListener("beforeunload", () => stopPhone());
