/* metrics.h — a tiny Prometheus registry: counters, gauges and histograms
 * named by a metric name plus a pre-formatted label set, updated with atomics
 * from any thread (loop, FUSE workers, curl and libav workers), rendered in
 * the Prometheus text format (version 0.0.4) by GET /metrics.
 *
 * Calls are one line at the place that counts:
 *
 *   rg_metrics_inc("reelgate_sync_runs_total", "job=\"tmdb\",result=\"ok\"");
 *   rg_metrics_inc("reelgate_webhook_events_total",
 *                  "source=\"plex\",event=\"media.play\"");
 *   rg_metrics_add("reelgate_http_bytes_total", "route=\"stream\"", n);
 *   rg_metrics_observe("reelgate_read_latency_seconds", "source=\"cache\"", s);
 *
 * LABELS is NULL or the inside of the braces, values already escaped (use
 * rg_metrics_escape for text from outside). A name ending in _total is a
 * counter, one listed as a histogram in metrics.c is a histogram, anything
 * else a gauge. The registry holds at most RG_METRICS_MAX_SERIES series;
 * past that, new series are dropped (and counted in
 * reelgate_metrics_dropped_series_total). Never call with unbounded label
 * values (info hashes are fine: torrents are bounded; user text is not). */
#ifndef RG_METRICS_H
#define RG_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define RG_METRICS_MAX_SERIES 2048

/* Counter += 1 / += V. */
void rg_metrics_inc(const char *name, const char *labels);
void rg_metrics_add(const char *name, const char *labels, int64_t v);
/* Gauge = V. */
void rg_metrics_set(const char *name, const char *labels, int64_t v);
/* Histogram: one observation of SECONDS. */
void rg_metrics_observe(const char *name, const char *labels, double seconds);

/* Monotonic microseconds, for latencies. */
int64_t rg_metrics_now_us(void);

/* Escapes a label value (\\, \", \n) into BUF (always NUL-terminated). */
void rg_metrics_escape(const char *in, char *buf, size_t len);

/* The whole registry in the text format, appended to a malloc'd string;
 * EXTRA (may be NULL) is text rendered by the caller (scrape-time gauges)
 * and goes first. Free with free(). */
char *rg_metrics_render(const char *extra);

/* Zeroes the registry (tests). Not thread-safe with concurrent updates. */
void rg_metrics_reset(void);

/* FUSE: one line at the top of an op counts it and observes its latency
 * when the op's scope ends (reelgate_fuse_ops_total{op},
 * reelgate_fuse_op_seconds{op}). */
typedef struct rg_metrics_timer {
  const char *op;
  int64_t t0_us;
} rg_metrics_timer;
void rg_metrics_fuse_done(rg_metrics_timer *t);
#define RG_METRICS_FUSE_OP(name)                                               \
  rg_metrics_timer rg_metrics_fuse_timer_                                      \
      __attribute__((cleanup(rg_metrics_fuse_done), unused)) = {              \
          (name), rg_metrics_now_us()}

/* Readers (reader.c): one call per answered read. ERR != 0 counts
 * reelgate_read_errors_total{cause}; else BYTES go to
 * reelgate_read_bytes_total{source} and WAITED_MS to the latency histogram;
 * source is warm (WARM), swarm (waited more than 5 ms: a piece had to
 * arrive) or cache. */
void rg_metrics_read(int err, int warm, int64_t bytes, int64_t waited_ms);

/* HTTP: counts the request by method and status code when its reply ends
 * (reelgate_http_requests_total{code}, reelgate_http_request_seconds). */
struct evhttp_request;
void rg_metrics_http_begin(struct evhttp_request *req);

#endif
