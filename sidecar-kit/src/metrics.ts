/**
 * A small Prometheus text-format registry (no dependency): counters, gauges and histograms with
 * optional labels. Hot paths update plain numbers through handles (`handle(labels)`); rendering
 * happens only on GET /metrics.
 *
 * Why not prom-client: loading it costs about 14 MB of RSS (measured on Node 22), which would
 * take gateway-node from ~78 MB idle past its 80 MB target for 19 series; this file covers what the
 * sidecars need, histograms included.
 */
export type Labels = Record<string, string | number>;

/** One labelled series of a counter or gauge: update `value` directly on hot paths. */
export interface Series {
  labels: string; // rendered `{a="b"}` or ""
  value: number;
}

/** A counter or a gauge. */
export class Metric {
  private readonly series = new Map<string, Series>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
  ) {}

  private get(labels?: Labels): Series {
    const key = labels ? renderLabels(labels) : "";
    let s = this.series.get(key);
    if (!s) {
      s = { labels: key, value: 0 };
      this.series.set(key, s);
    }
    return s;
  }

  /** The series for `labels`, to update without a lookup on hot paths. */
  handle(labels?: Labels): Series {
    return this.get(labels);
  }

  inc(labels?: Labels, by = 1): void {
    this.get(labels).value += by;
  }

  set(value: number, labels?: Labels): void {
    this.get(labels).value = value;
  }

  value(labels?: Labels): number {
    return this.series.get(labels ? renderLabels(labels) : "")?.value ?? 0;
  }

  /** Sum over every label set. */
  total(): number {
    let t = 0;
    for (const s of this.series.values()) t += s.value;
    return t;
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${this.type}\n`;
    if (this.series.size === 0 && this.type === "counter") out += `${this.name} 0\n`;
    for (const s of this.series.values()) out += `${this.name}${s.labels} ${Number.isFinite(s.value) ? s.value : 0}\n`;
    return out;
  }
}

/** One labelled series of a histogram: `observe` is a few comparisons and additions. */
export class HistogramSeries {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Labels | undefined,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Array<number>(bounds.length).fill(0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) if (value <= this.bounds[i]!) this.counts[i]!++;
  }
}

/** A histogram with fixed upper bounds (`le`), cumulative buckets as Prometheus expects. */
export class Histogram {
  private readonly series = new Map<string, HistogramSeries>();
  readonly type = "histogram";
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {
    if (buckets.length === 0 || buckets.some((b, i) => i > 0 && b <= buckets[i - 1]!)) {
      throw new RangeError(`histogram ${name}: buckets must be a non-empty increasing list`);
    }
  }

  handle(labels?: Labels): HistogramSeries {
    const key = labels ? renderLabels(labels) : "";
    let s = this.series.get(key);
    if (!s) {
      s = new HistogramSeries(labels, this.buckets);
      this.series.set(key, s);
    }
    return s;
  }

  observe(value: number, labels?: Labels): void {
    this.handle(labels).observe(value);
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    for (const s of this.series.values()) {
      const base = s.labels ?? {};
      for (const [i, le] of this.buckets.entries()) out += `${this.name}_bucket${renderLabels({ ...base, le })} ${s.counts[i]}\n`;
      out += `${this.name}_bucket${renderLabels({ ...base, le: "+Inf" })} ${s.count}\n`;
      out += `${this.name}_sum${renderLabels(base)} ${s.sum}\n`;
      out += `${this.name}_count${renderLabels(base)} ${s.count}\n`;
    }
    return out;
  }
}

/** Label values escaped as the exposition format requires; keys sorted so one label set is one series. */
export function renderLabels(labels: Labels): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${String(labels[k]).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

/**
 * A set of metrics rendered together. A sidecar subclasses it and declares its metrics as fields
 * (`readonly x = this.counter(...)`), so every name is written once.
 */
export class MetricsRegistry {
  private readonly all: (Metric | Histogram)[] = [];

  protected counter(name: string, help: string): Metric {
    return this.add(new Metric(name, help, "counter"));
  }

  protected gauge(name: string, help: string): Metric {
    return this.add(new Metric(name, help, "gauge"));
  }

  protected histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, buckets));
  }

  private add<M extends Metric | Histogram>(m: M): M {
    if (this.all.some((x) => x.name === m.name)) throw new Error(`metric ${m.name} is declared twice`);
    this.all.push(m);
    return m;
  }

  /** Prometheus text exposition (version 0.0.4). */
  render(): string {
    return this.all.map((m) => m.render()).join("");
  }
}
