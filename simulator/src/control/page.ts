/**
 * The control page served at `/`: a plain HTML page (no framework) that polls GET /control/state
 * and calls POST /control/<method>. Names from the world are inserted with textContent only.
 */
export const CONTROL_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Discord simulator</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 1.5rem; color: #222; }
  h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin-top: 1.5rem; }
  table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; }
  button { margin: .1rem; } .down { color: #b00; font-weight: bold; } #log { color: #b00; min-height: 1.2em; }
  code { background: #f3f3f3; padding: 0 .2rem; }
</style>
</head>
<body>
<h1>Discord simulator <span id="status"></span></h1>
<p>REST <code id="api"></code> · Gateway <code id="gw"></code></p>
<p id="log"></p>

<h2>Voice</h2>
<table><thead><tr><th>User</th><th>In channel</th><th>Move to</th><th></th></tr></thead><tbody id="voice"></tbody></table>

<h2>Voice server: simulated people (real voice connections)</h2>
<p id="voiceServer"></p>
<table><thead><tr><th>Person</th><th>Connection</th><th>Speaking</th><th>Hears (per speaker: Hz, dBFS, packets)</th><th>DAVE failures</th><th></th></tr></thead><tbody id="people"></tbody></table>
<p>Join <select id="personUser"></select> to <select id="personChannel"></select> <label><input type="checkbox" id="personDeaf"> deafened</label>
<button id="personJoin">Join with audio</button>
· play a WAV clip (16-bit PCM) as that person <input type="file" id="wavFile" accept=".wav,audio/wav"> <button id="wavPlay">Play</button></p>
<p>Voice faults: <button data-act="dropVoice">Drop voice sockets</button>
close with <input id="voiceCode" value="4015" size="5"> <button id="voiceClose">Close</button>
loss <input id="voiceLoss" value="0" size="4"> jitter ms <input id="voiceJitter" value="0" size="4"> <button id="voiceFaults">Apply</button>
delay DAVE transitions ms <input id="daveDelay" value="0" size="5"> <button id="daveDelaySet">Apply</button>
<button data-act="corruptDaveWelcomes" data-body='{"count":1}'>Corrupt next Welcome</button>
<button id="injectPlain">45 plain frames from the selected person</button>
<button data-act="setDaveZeroTransitionIds" data-body='{"on":true}'>Transition id 0 on</button>
<button data-act="setDaveZeroTransitionIds" data-body='{"on":false}'>off</button>
<button data-act="moveVoiceEndpoint">Move endpoint</button></p>

<h2>Message</h2>
<select id="msgUser"></select> in <select id="msgChannel"></select>
<input id="msgText" placeholder="content" size="30"> <button id="msgSend">Post</button> <button id="msgTyping">Typing</button>
<br>Message id <input id="msgId" size="20"> <input id="msgEdit" placeholder="new content" size="20"> <button id="msgEditSend">Edit</button>
<button id="msgDelete">Delete</button> emoji <input id="msgEmoji" value="👍" size="6"> <button id="msgReact">React</button> <button id="msgUnreact">Remove reaction</button>

<h2>Gateway faults</h2>
<p id="stats"></p>
<button data-act="dropConnections">Drop connections</button>
<button data-act="setZombie" data-body='{"on":true}'>Zombie on</button>
<button data-act="setZombie" data-body='{"on":false}'>Zombie off</button>
<button data-act="requestHeartbeat">Op 1 (heartbeat request)</button>
<button data-act="sendReconnect">Op 7 (reconnect)</button>
<button data-act="sendInvalidSession" data-body='{"resumable":true}'>Op 9 resumable</button>
<button data-act="sendInvalidSession" data-body='{"resumable":false}'>Op 9 not resumable</button>
<br>Close with code <input id="closeCode" value="4000" size="5"> <button id="closeSend">Close</button>
<br><button data-act="goDown">Go down</button> <button data-act="comeBack">Come back</button>

<h2>REST rate limits</h2>
global/s <input id="rlGlobal" size="4"> route limit <input id="rlRoute" size="4"> per ms <input id="rlWindow" size="6">
<button id="rlSet">Apply</button>

<h2>Recent REST requests</h2>
<table><thead><tr><th>Time</th><th>Method</th><th>Path</th><th>Status</th><th>Audit reason</th></tr></thead><tbody id="requests"></tbody></table>

<script>
const $ = (id) => document.getElementById(id);
const el = (tag, text) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = String(text); return e; };
const opt = (value, text) => { const o = el("option", text); o.value = value; return o; };

async function act(name, body) {
  const res = await fetch("/control/" + name, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}) });
  const json = await res.json();
  $("log").textContent = res.ok ? "" : name + ": " + json.error.message;
  // A posted message's id, for editing, deleting and reacting to it.
  if (res.ok && json.result && json.result.id && json.result.channel_id) $("msgId").value = json.result.id;
  await refresh();
}

// Chosen "move to" channels survive the once-a-second re-render.
const moveChoice = {};

function renderVoice(state) {
  const tbody = $("voice"); tbody.replaceChildren();
  for (const guild of state.guilds) {
    const voiceChannels = guild.channels.filter((c) => c.type === 2);
    const names = Object.fromEntries(guild.channels.map((c) => [c.id, c.name]));
    for (const user of state.users.filter((u) => !u.bot)) {
      const current = guild.voiceStates.find((v) => v.user_id === user.id);
      const row = el("tr");
      row.append(el("td", user.username), el("td", current ? guild.name + " / " + names[current.channel_id] : "-"));
      const select = el("select");
      const key = guild.id + ":" + user.id;
      for (const c of voiceChannels) select.append(opt(c.id, c.name));
      if (moveChoice[key]) select.value = moveChoice[key];
      select.onchange = () => { moveChoice[key] = select.value; };
      const join = el("button", current ? "Move" : "Join");
      join.onclick = () => act("joinVoice", { guildId: guild.id, userId: user.id, channelId: select.value });
      const leave = el("button", "Leave");
      leave.disabled = !current;
      leave.onclick = () => act("leaveVoice", { guildId: guild.id, userId: user.id });
      const cell = el("td"); cell.append(select, join);
      const cell2 = el("td"); cell2.append(leave);
      row.append(cell, cell2);
      tbody.append(row);
    }
  }
}

// Typed tone frequencies survive the re-render, like the "move to" choices.
const toneChoice = {};

function renderPeople(state) {
  const v = state.voice;
  $("voiceServer").textContent = v ? "endpoint wss://" + v.endpoint + " · CA " + v.caFile + " · sessions " + v.sessions + " · relayed " + v.relay.forwarded + " (dropped " + v.relay.dropped + ")" : "voice server off";
  const tbody = $("people");
  if (tbody.contains(document.activeElement) && document.activeElement.tagName === "INPUT") return; // typing: keep the field
  tbody.replaceChildren();
  if (!v) return;
  const names = Object.fromEntries(state.users.map((u) => [u.id, u.username]));
  for (const p of v.people) {
    const row = el("tr");
    const heard = Object.entries(p.heard.speakers).map(([id, h]) => (names[id] || id) + ": " + (h.frequencyHz ?? "-") + " Hz, " + (h.levelDbfs ?? "-") + " dBFS, " + h.packets + " pkts").join("; ");
    const hz = el("input"); hz.size = 5; hz.value = toneChoice[p.userId] || p.speakingHz || 440;
    hz.oninput = () => { toneChoice[p.userId] = hz.value; };
    const speak = el("button", "Speak"); speak.onclick = () => act("personSpeak", { userId: p.userId, frequencyHz: Number(hz.value) });
    const silence = el("button", "Silence"); silence.onclick = () => act("personSilence", { userId: p.userId });
    const leave = el("button", "Leave"); leave.onclick = () => act("personLeave", { userId: p.userId });
    const controls = el("td"); controls.append(hz, speak, silence, leave);
    row.append(el("td", names[p.userId] || p.userId), el("td", p.status + (p.voicePrivacyCode ? " · E2EE" : "")), el("td", p.speakingHz ? p.speakingHz + " Hz" : "-"), el("td", heard || "-"), el("td", p.heard.daveDecryptFailures), controls);
    tbody.append(row);
  }
}

function renderPickers(state) {
  if ($("msgUser").options.length) return;
  for (const u of state.users) $("msgUser").append(opt(u.id, u.username));
  for (const u of state.users.filter((u) => !u.bot)) $("personUser").append(opt(u.id, u.username));
  for (const g of state.guilds) for (const c of g.channels.filter((c) => c.type === 2)) $("personChannel").append(opt(g.id + ":" + c.id, g.name + " / " + c.name));
  for (const g of state.guilds) for (const c of g.channels.filter((c) => c.type === 0 || c.type === 2)) $("msgChannel").append(opt(c.id, g.name + (c.type === 2 ? " / 🔊 " : " / #") + c.name));
  $("rlGlobal").value = state.rateLimits.globalPerSecond;
  $("rlRoute").value = state.rateLimits.routeLimit;
  $("rlWindow").value = state.rateLimits.routeWindowMs;
}

async function refresh() {
  const state = await (await fetch("/control/state")).json();
  $("status").textContent = state.down ? "(DOWN)" : "";
  $("status").className = state.down ? "down" : "";
  $("api").textContent = state.apiBase;
  $("gw").textContent = state.gatewayUrl;
  const s = state.gateway;
  $("stats").textContent = "open connections " + s.openConnections + " · sessions " + s.sessions + " · identifies " + s.identifies + " · resumes " + s.resumes + " · heartbeats " + s.heartbeats + " · dispatches " + s.dispatches;
  renderVoice(state);
  renderPeople(state);
  renderPickers(state);
  const requests = await (await fetch("/control/requests")).json();
  const tbody = $("requests"); tbody.replaceChildren();
  for (const r of requests.slice(-20).reverse()) {
    const row = el("tr");
    row.append(el("td", new Date(r.at).toLocaleTimeString()), el("td", r.method), el("td", r.path), el("td", r.status), el("td", r.auditLogReason || ""));
    tbody.append(row);
  }
}

for (const button of document.querySelectorAll("button[data-act]")) {
  button.onclick = () => act(button.dataset.act, button.dataset.body ? JSON.parse(button.dataset.body) : {});
}
$("msgSend").onclick = () => act("postMessage", { channelId: $("msgChannel").value, userId: $("msgUser").value, content: $("msgText").value });
$("personJoin").onclick = () => { const [guildId, channelId] = $("personChannel").value.split(":"); act("personJoin", { guildId, userId: $("personUser").value, channelId, selfDeaf: $("personDeaf").checked }); };
$("wavPlay").onclick = async () => {
  const file = $("wavFile").files[0];
  if (!file) return void ($("log").textContent = "choose a WAV file first");
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  act("personSpeakWav", { userId: $("personUser").value, wavBase64: btoa(binary) });
};
$("injectPlain").onclick = () => act("injectUnencryptedFrames", { userId: $("personUser").value, count: 45 });
$("voiceClose").onclick = () => act("closeVoiceWith", { code: Number($("voiceCode").value) });
$("voiceFaults").onclick = () => act("setVoicePacketFaults", { lossRate: Number($("voiceLoss").value), jitterMs: Number($("voiceJitter").value) });
$("daveDelaySet").onclick = () => act("delayDaveTransitions", { ms: Number($("daveDelay").value) });
const msgRef = () => ({ channelId: $("msgChannel").value, messageId: $("msgId").value.trim() });
$("msgTyping").onclick = () => act("startTyping", { channelId: $("msgChannel").value, userId: $("msgUser").value });
$("msgEditSend").onclick = () => act("editMessage", { ...msgRef(), content: $("msgEdit").value });
$("msgDelete").onclick = () => act("deleteMessage", msgRef());
$("msgReact").onclick = () => act("addReaction", { ...msgRef(), userId: $("msgUser").value, emoji: $("msgEmoji").value });
$("msgUnreact").onclick = () => act("removeReaction", { ...msgRef(), userId: $("msgUser").value, emoji: $("msgEmoji").value });
$("closeSend").onclick = () => act("closeWith", { code: Number($("closeCode").value) });
$("rlSet").onclick = () => act("setRateLimits", { globalPerSecond: Number($("rlGlobal").value), routeLimit: Number($("rlRoute").value), routeWindowMs: Number($("rlWindow").value) });
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
`;
