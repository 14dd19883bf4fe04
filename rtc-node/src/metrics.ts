/** rtc-node's metrics, on the sidecar kit's registry (names documented in the README). */
import { MetricsRegistry } from "@spell-coven/sidecar-kit";

export class RtcMetrics extends MetricsRegistry {
  readonly linkUp = this.gauge("rtc_link_up", "1 while the voice link to gateway-node is open.");
  readonly linkConnects = this.counter("rtc_link_connects_total", "Times the voice link opened.");
  readonly voiceConnections = this.gauge("rtc_voice_connections", "Voice connections, by status.");
  readonly packetsReceived = this.counter("rtc_audio_packets_received_total", "Opus packets received from speakers (used for speaking detection only).");
  readonly signalsPosted = this.counter("rtc_signals_posted_total", "voice.speaking signals accepted by the hub.");
  readonly signalsDropped = this.counter("rtc_signals_dropped_total", "voice.speaking signals the hub did not accept (dropped, never retried).");
  readonly signalPostMs = this.histogram("rtc_signal_post_ms", "Time to post a batch of signals to the hub.", [5, 10, 25, 50, 100, 250, 500, 1000]);
  readonly departures = this.counter("rtc_bot_departures_total", "Times a table bot left, by reason.");
}
