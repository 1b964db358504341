// The softphone in the page: a thin wrapper around JsSIP (https://jssip.net) for pbx-control.
//
// Usage (the account comes from POST /users/me/webphone, see README "Softphone in the browser"):
//   import { Softphone } from "./softphone.js";
//   const phone = new Softphone(JsSIP, account, { onIncoming: (from) => ..., onState: (s, info) => ... });
//   await phone.register();          // resolves when Asterisk answered 200 to REGISTER
//   await phone.call("1002");        // or "*43" (echo test); resolves when the call is confirmed
//   phone.answer(); phone.hangup(); phone.hold(true|false); phone.mute(true|false); phone.dtmf("1");
//   await phone.stats();             // {inboundPackets, outboundPackets, candidatePair}
//
// States given to onState: "registered", "unregistered", "registration-failed", "ringing" (incoming),
// "calling", "progress", "confirmed", "held", "resumed", "ended", "failed", "disconnected".
//
// Pitfall: Chromium hides host ICE candidates behind mDNS ".local" names (which Asterisk cannot
// resolve) unless the page already holds microphone permission; so the microphone is opened with
// getUserMedia *before* a call is built, and that stream is handed to JsSIP.

export class Softphone {
  constructor(JsSIP, account, { onIncoming = () => {}, onState = () => {}, audioElement = null } = {}) {
    this.JsSIP = JsSIP;
    this.account = account;
    this.onIncoming = onIncoming;
    this.onState = onState;
    this.audio = audioElement || (typeof Audio !== "undefined" ? new Audio() : null);
    if (this.audio) this.audio.autoplay = true;
    this.session = null;
    this.stream = null;
    this.ua = null;
    this.constraints = { audio: true }; // getUserMedia's, e.g. {audio: {deviceId: {exact: id}}}
  }

  async microphone() {
    if (!this.stream) {
      this.stream = await navigator.mediaDevices.getUserMedia({ ...this.constraints, video: false });
    }
    return this.stream;
  }

  register() {
    const a = this.account;
    const socket = new this.JsSIP.WebSocketInterface(a.ws_url);
    this.ua = new this.JsSIP.UA({
      sockets: [socket],
      uri: a.uri,
      authorization_user: a.sip_username,
      realm: a.realm,
      ha1: a.ha1,
      register: true,
      session_timers: false,
      user_agent: "pbx-control-webphone",
    });
    const done = new Promise((resolve, reject) => {
      this.ua.on("registered", () => { this.onState("registered"); resolve(); });
      this.ua.on("registrationFailed", (e) => { this.onState("registration-failed", e.cause); reject(new Error(e.cause)); });
    });
    this.ua.on("unregistered", () => this.onState("unregistered"));
    this.ua.on("disconnected", () => this.onState("disconnected"));
    this.ua.on("newRTCSession", (e) => this._session(e.session, e.originator));
    this.ua.start();
    return done;
  }

  async call(target) {
    if (this.session) throw new Error("a call is already in progress");
    const stream = await this.microphone(); // before the RTCPeerConnection: no mDNS candidates
    const domain = this.account.uri.split("@")[1];
    const uri = /^sip:/.test(target) ? target : `sip:${target}@${domain}`;
    const session = this.ua.call(uri, { mediaStream: stream, pcConfig: { iceServers: [] } });
    return this._confirmed(session);
  }

  async answer() {
    const session = this.session;
    if (!session || session.direction !== "incoming") throw new Error("no incoming call");
    const stream = await this.microphone();
    session.answer({ mediaStream: stream, pcConfig: { iceServers: [] } });
    return this._confirmed(session);
  }

  hangup() {
    if (this.session && !this.session.isEnded()) this.session.terminate();
  }

  hold(on = true) {
    if (!this.session) return;
    if (on) this.session.hold(); else this.session.unhold();
  }

  mute(on = true) {
    if (!this.session) return;
    if (on) this.session.mute({ audio: true }); else this.session.unmute({ audio: true });
  }

  dtmf(tones) {
    if (this.session) this.session.sendDTMF(tones);
  }

  get inCall() {
    return this.session !== null;
  }

  // Media statistics of the current call's RTCPeerConnection: audio packets received and sent,
  // and the state of the nominated ICE candidate pair.
  async stats() {
    const pc = this.session && this.session.connection;
    const out = { inboundPackets: 0, outboundPackets: 0, candidatePair: null };
    if (!pc) return out;
    const report = await pc.getStats();
    report.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "audio") out.inboundPackets += s.packetsReceived || 0;
      if (s.type === "outbound-rtp" && s.kind === "audio") out.outboundPackets += s.packetsSent || 0;
      if (s.type === "candidate-pair" && s.nominated) out.candidatePair = s.state;
    });
    return out;
  }

  stop() {
    this.hangup();
    if (this.ua) this.ua.stop();
    if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
    this.stream = null;
  }

  _confirmed(session) {
    return new Promise((resolve, reject) => {
      if (session.isEstablished()) return resolve();
      session.on("confirmed", () => resolve());
      session.on("failed", (e) => reject(new Error(e.cause)));
    });
  }

  _session(session, originator) {
    if (this.session) { // one call at a time: a second incoming call is busy
      if (originator === "remote") session.terminate({ status_code: 486 });
      return;
    }
    this.session = session;
    session.on("peerconnection", (e) => this._track(e.peerconnection));
    if (session.connection) this._track(session.connection);
    session.on("progress", () => this.onState("progress"));
    session.on("confirmed", () => this.onState("confirmed"));
    session.on("hold", () => this.onState("held"));
    session.on("unhold", () => this.onState("resumed"));
    const end = (state) => (e) => {
      if (this.session === session) this.session = null;
      this.onState(state, e && e.cause);
    };
    session.on("ended", end("ended"));
    session.on("failed", end("failed"));
    if (originator === "remote") {
      this.onState("ringing", session.remote_identity.uri.user);
      this.onIncoming(session.remote_identity.uri.user, session.remote_identity.display_name);
    } else {
      this.onState("calling");
    }
  }

  _track(pc) {
    pc.addEventListener("track", (e) => {
      if (this.audio && e.streams[0]) this.audio.srcObject = e.streams[0];
    });
  }
}
