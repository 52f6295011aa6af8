// SPDX-License-Identifier: GPL-2.0
/*
 * vigie report: the page. One HTML file, its style inline, its pictures
 * inline SVG, no script and nothing fetched (a Content-Security-Policy
 * forbids both, should a name ever get past the escaping): a summary,
 * warnings, the timeline of alerts and episodes with their tables, a
 * section per alerted principal and per top principal by volume, the heat
 * maps of database reads. Written in a fixed order from sorted data: the
 * same replay gives the same bytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "base/event.h"
#include "base/rank.h"
#include "view/report_data.h"
#include "view/report_html.h"

#define MAX_ALERTED 25     /* alerted principals charted */
#define METRICS_CHARTED 2  /* charts per alerted principal: its most alerted metrics */
#define TOP_PER_METRIC 3   /* top principals by volume charted per metric */
#define MAX_ALERT_ROWS 500 /* rows of the alert table */
#define MAX_EP_ROWS 200

static const char style[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1000px;padding:0 16px;"
	"color:#1d2330;background:#fff}\n"
	"h1{font-size:24px;margin:18px 0 2px}h2{font-size:19px;border-bottom:2px solid #dde3ec;"
	"padding-bottom:3px;margin-top:30px}h3{font-size:16px;margin:22px 0 4px}\n"
	".sub,.note{color:#5a6478}.note{font-size:13px}nav a{margin-right:14px}\n"
	"table{border-collapse:collapse;margin:6px 0 10px;font-size:13px}"
	"th,td{border-bottom:1px solid #e4e8ef;padding:3px 8px;text-align:left;vertical-align:top}"
	"th{background:#f3f5f9}td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
	"dl.kv{display:grid;grid-template-columns:180px 1fr;gap:3px 12px}dt{color:#5a6478}"
	"dd{margin:0}\n"
	".warn{background:#fff4e0;border-left:4px solid #e8a317;padding:6px 12px;margin:8px 0}\n"
	".sev{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-size:12px}"
	".s1{background:#e8a317}.s2{background:#e0542a}.s3{background:#a3001b}.s0{background:#888}\n"
	".tag{display:inline-block;padding:0 6px;border-radius:3px;background:#e8edf5;"
	"font-size:12px;margin-left:6px}\n"
	"svg{display:block;max-width:100%;height:auto;margin:4px 0}"
	"svg text{font:11px system-ui,sans-serif;fill:#3b4456}\n"
	".grid{stroke:#e6e9ef;stroke-width:1}.frame{fill:none;stroke:#c3cad6}"
	".band{fill:#cfe8d2}.thr{fill:none;stroke:#d08000;stroke-width:1.5;stroke-dasharray:5 3}"
	".floor{stroke:#6b7280;stroke-width:1.2;stroke-dasharray:2 3}"
	".obs{fill:#3b6fb6}.obsl{fill:none;stroke:#3b6fb6;stroke-width:1}"
	".ep{fill:#f6d2d2;opacity:.6}.al line{stroke-width:1;opacity:.7}"
	".tep{opacity:.35}.hz{fill:#f1f3f6}\n"
	".legend span{display:inline-block;margin-right:14px}.sw{display:inline-block;width:18px;"
	"height:10px;margin-right:5px;vertical-align:middle}\n"
	".tops{display:flex;gap:28px;flex-wrap:wrap}code{font-size:12px}\n"
	"footer{margin:36px 0 24px;color:#5a6478;font-size:12px}\n"
	"@media print{nav{display:none}section{break-inside:avoid-page}}\n";

struct chart_ref {
	struct rpt_principal *p;
	int metric;
	bool alerted;
};

struct page {
	struct rpt_data *r;
	FILE *f;
	struct rpt_span span;
	struct rpt_principal **alerted; /* sorted, all of them */
	size_t n_alerted;
	struct chart_ref *charts;
	size_t n_charts;
	uint32_t n_charted;             /* principals with a section */
};

static int cmp_alerted(const void *a, const void *b)
{
	const struct rpt_principal *x = *(struct rpt_principal *const *)a;
	const struct rpt_principal *y = *(struct rpt_principal *const *)b;

	if (x->max_level != y->max_level)
		return x->max_level > y->max_level ? -1 : 1;
	if (x->max_ratio != y->max_ratio)
		return x->max_ratio > y->max_ratio ? -1 : 1;
	if (x->first_alert_ns != y->first_alert_ns)
		return x->first_alert_ns < y->first_alert_ns ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int add_chart(struct page *pg, struct rpt_principal *p, int m, bool alerted)
{
	if (!p->m[m])
		return 0;
	pg->charts[pg->n_charts++] = (struct chart_ref){ p, m, alerted };
	if (p->chart == RPT_NONE)
		p->chart = pg->n_charted++;
	return 0;
}

/* Alerted principals (most severe first), then the top ones by volume of
 * each metric that are not aggregates. */
static int choose(struct page *pg)
{
	struct rpt_data *r = pg->r;

	for (size_t i = 0; i < r->n_all; i++)
		r->all[i]->chart = RPT_NONE;
	pg->alerted = calloc(r->n_all ? r->n_all : 1, sizeof(*pg->alerted));
	pg->charts = calloc((size_t)(MAX_ALERTED + TOP_PER_METRIC) * M_MAX, sizeof(*pg->charts));
	if (!pg->alerted || !pg->charts)
		return -1;
	for (size_t i = 0; i < r->n_all; i++)
		if (r->all[i]->alerts)
			pg->alerted[pg->n_alerted++] = r->all[i];
	qsort(pg->alerted, pg->n_alerted, sizeof(*pg->alerted), cmp_alerted);
	for (size_t i = 0; i < pg->n_alerted && i < MAX_ALERTED; i++) {
		struct rpt_principal *p = pg->alerted[i];
		bool pick[M_MAX] = { false };

		for (int k = 0; k < METRICS_CHARTED; k++) {
			int best = -1;

			for (int m = 0; m < M_MAX; m++)
				if (p->m[m] && p->m[m]->alerts && !pick[m] &&
				    (best < 0 || p->m[m]->alerts > p->m[best]->alerts))
					best = m;
			if (best >= 0)
				pick[best] = true;
		}
		for (int m = 0; m < M_MAX; m++)
			if (pick[m])
				add_chart(pg, p, m, true);
	}
	for (int m = 0; m < M_MAX; m++) {
		for (int k = 0; k < TOP_PER_METRIC; k++) {
			struct rpt_principal *best = NULL;

			for (size_t i = 0; i < r->n_all; i++) {
				struct rpt_principal *p = r->all[i];

				if (p->aggregate || p->alerts || p->chart != RPT_NONE || !p->m[m] ||
				    !p->m[m]->total)
					continue;
				if (!best || p->m[m]->total > best->m[m]->total)
					best = p;
			}
			if (best)
				add_chart(pg, best, m, false);
		}
	}
	return 0;
}

static void principal_name(FILE *f, const struct rpt_principal *p, size_t max)
{
	html_fmt(f, "%s ", principal_kind_name(p->kind));
	html_text(f, p->id, max);
}

static void summary(struct page *pg)
{
	struct rpt_data *r = pg->r;
	const struct replay_result *res = &r->res;
	uint64_t sev[4] = { 0 }, kinds[PK_MAX] = { 0 };
	char a[32], b[32], c[32], d[32], e[32], g[32];
	FILE *f = pg->f;

	for (size_t i = 0; i < r->n_alerts; i++)
		sev[r->alerts[i].level & 3]++;
	for (size_t i = 0; i < r->n_all; i++)
		kinds[r->all[i]->kind]++;
	html_raw(f, "<section id=\"summary\"><h2>Summary</h2><dl class=\"kv\">\n"
		 "<dt>Period (UTC)</dt><dd>");
	if (res->samples)
		html_fmt(f, "%s to %s (%s)", fmt_time(res->first_ts, 1, a, sizeof(a)),
			 fmt_time(res->last_ts, 1, b, sizeof(b)),
			 fmt_duration(res->last_ts - res->first_ts, c, sizeof(c)));
	else
		html_raw(f, "no sample");
	html_raw(f, "</dd>\n<dt>Hosts</dt><dd id=\"sum-hosts\">");
	for (int i = 0; i < r->n_hosts; i++) {
		html_raw(f, i ? ", " : "");
		html_text(f, r->hosts[i].name, 80);
	}
	if (r->hosts_merged)
		html_fmt(f, " and %llu more", (unsigned long long)r->hosts_merged);
	html_fmt(f, "</dd>\n<dt>Traces</dt><dd>%d: ", r->n_traces + r->traces_more);
	for (int i = 0; i < r->n_traces; i++) {
		html_raw(f, i ? ", <code>" : "<code>");
		html_text(f, r->traces[i], 120);
		html_raw(f, "</code>");
	}
	html_fmt(f, "; <span id=\"sum-samples\">%s</span> samples, %s bad lines skipped, %s lines "
		 "ignored</dd>\n", fmt_count(res->samples, a, sizeof(a)),
		 fmt_count(res->skipped, b, sizeof(b)), fmt_count(res->ignored, c, sizeof(c)));
	html_raw(f, "<dt>Configuration</dt><dd>");
	if (r->config_path) {
		html_raw(f, "<code>");
		html_text(f, r->config_path, 120);
		html_raw(f, "</code>");
	} else {
		html_raw(f, "built-in defaults");
	}
	if (r->state_path) {
		html_raw(f, ", state <code>");
		html_text(f, r->state_path, 120);
		html_raw(f, "</code>");
	}
	html_fmt(f, "</dd>\n<dt>Principals</dt><dd><span id=\"sum-principals\">%s</span> tracked by "
		 "detection", fmt_count(res->sum.principals, a, sizeof(a)));
	for (int k = 0, n = 0; k < PK_MAX; k++)
		if (kinds[k])
			html_fmt(f, "%s%s %s", n++ ? ", " : "; with volume: ",
				 fmt_count(kinds[k], b, sizeof(b)), principal_kind_name((enum principal_kind)k));
	html_fmt(f, "</dd>\n<dt>Alerts</dt><dd><span id=\"sum-alerts\">%s</span> "
		 "(%s suppressed by the rate limits), <span id=\"sum-episodes\">%s</span> episode%s; "
		 "critical %s, high %s, medium %s</dd>\n",
		 fmt_count(res->sum.alerts, a, sizeof(a)), fmt_count(res->sum.suppressed, b, sizeof(b)),
		 fmt_count(res->sum.episodes, c, sizeof(c)), res->sum.episodes == 1 ? "" : "s",
		 fmt_count(sev[3], d, sizeof(d)), fmt_count(sev[2], e, sizeof(e)),
		 fmt_count(sev[1], g, sizeof(g)));
	html_fmt(f, "<dt>Alerted principals</dt><dd>%s</dd>\n",
		 fmt_count(pg->n_alerted, a, sizeof(a)));
	if (r->containment_events)
		html_fmt(f, "<dt>Containment</dt><dd>%s dry-run events (what containment would "
			 "have done: <code>vigie replay</code> prints them)</dd>\n",
			 fmt_count(r->containment_events, a, sizeof(a)));
	html_raw(f, "</dl></section>\n");
}

static void warn(FILE *f, bool *any, const char *text)
{
	if (!*any)
		html_raw(f, "<section id=\"warnings\"><h2>Warnings</h2>\n");
	*any = true;
	html_raw(f, "<p class=\"warn\">");
	html_text(f, text, 600);
	html_raw(f, "</p>\n");
}

static void warnings(struct page *pg)
{
	struct rpt_data *r = pg->r;
	char msg[900];
	bool any = false;

	if (r->replay_code == REPLAY_BAD_TRACE) {
		snprintf(msg, sizeof(msg), "A trace could not be read to its end, the report covers "
			 "what was read before: %s", r->res.error);
		warn(pg->f, &any, msg);
	}
	if (r->res.skipped) {
		snprintf(msg, sizeof(msg), "%llu bad lines were skipped (vigie replay names them).",
			 (unsigned long long)r->res.skipped);
		warn(pg->f, &any, msg);
	}
	if (r->replay_code == REPLAY_RUNTIME)
		warn(pg->f, &any, "The state file could not be saved.");
	if (r->oom)
		warn(pg->f, &any, "Memory ran out while gathering: some series or alerts are missing.");
	if (r->alerts_over || r->eps_over) {
		snprintf(msg, sizeof(msg), "Only the first %d alerts and %d episodes are kept (%llu "
			 "alerts and %llu episodes more).", RPT_MAX_ALERTS, RPT_MAX_EPISODES,
			 (unsigned long long)r->alerts_over, (unsigned long long)r->eps_over);
		warn(pg->f, &any, msg);
	}
	if (r->principals_dropped) {
		snprintf(msg, sizeof(msg), "More principals than detection.max_principals: %llu "
			 "samples' principals were not followed.", (unsigned long long)r->principals_dropped);
		warn(pg->f, &any, msg);
	}
	if (pg->n_alerted > MAX_ALERTED) {
		snprintf(msg, sizeof(msg), "%zu principals were alerted on; the %d most severe are "
			 "charted, the tables list the others.", pg->n_alerted, MAX_ALERTED);
		warn(pg->f, &any, msg);
	}
	if (any)
		html_raw(pg->f, "</section>\n");
}

static void alert_row(struct page *pg, const struct rpt_alert *a)
{
	char t[32], o[48], n[48], q[24];
	FILE *f = pg->f;

	html_fmt(f, "<tr><td>%s</td><td><span class=\"sev s%d\">%s</span></td><td>",
		 fmt_time(a->ts, 1, t, sizeof(t)), a->level & 3, severity_label(a->level));
	if (a->p->chart != RPT_NONE)
		html_fmt(f, "<a href=\"#p-%u\">", a->p->index);
	principal_name(f, a->p, 40);
	html_raw(f, a->p->chart != RPT_NONE ? "</a>" : "");
	html_fmt(f, "</td><td>%s</td><td>%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
		 "<td class=\"n\">%s</td><td>", metric_name((enum metric)a->metric),
		 window_name((enum window)a->window),
		 fmt_volume((double)a->observed, a->metric, o, sizeof(o)),
		 fmt_volume(a->normal, a->metric, n, sizeof(n)), fmt_ratio(a->ratio, q, sizeof(q)));
	html_text(f, a->reference, 0);
	html_raw(f, "</td><td>");
	html_text(f, a->reason, 0);
	html_raw(f, "</td></tr>\n");
}

static void timeline(struct page *pg)
{
	struct rpt_data *r = pg->r;
	size_t rows = pg->n_alerted < MAX_ALERTED ? pg->n_alerted : MAX_ALERTED;
	char a[32], b[32], v[48], q[24];
	FILE *f = pg->f;

	html_raw(f, "<section id=\"timeline\"><h2>Alerts and episodes</h2>\n");
	if (!r->n_alerts && !r->n_eps) {
		html_raw(f, "<p id=\"no-alerts\">No alert.</p></section>\n");
		return;
	}
	html_fmt(f, "<p class=\"note\">One row per alerted principal: episodes as bars, alerts as "
		 "dots (the first %d of each), coloured by severity (hover for details).</p>\n",
		 RPT_MARKS);
	svg_timeline(f, r, &pg->span, pg->alerted, (int)rows);
	html_raw(f, "<h3>Alerts</h3><table id=\"alert-table\"><tr><th>Time (UTC)</th><th>Severity"
		 "</th><th>Principal</th><th>Metric</th><th>Window</th><th>Observed</th><th>Normal"
		 "</th><th>Ratio</th><th>Reference</th><th>Reason</th></tr>\n");
	for (size_t i = 0; i < r->n_alerts && i < MAX_ALERT_ROWS; i++)
		alert_row(pg, &r->alerts[i]);
	html_raw(f, "</table>\n");
	if (r->n_alerts > MAX_ALERT_ROWS)
		html_fmt(f, "<p class=\"note\">%zu more alerts are not listed: <code>vigie replay"
			 "</code> writes them all.</p>\n", r->n_alerts - MAX_ALERT_ROWS);
	html_raw(f, "<h3>Episodes</h3><table id=\"episode-table\"><tr><th>Episode</th><th>Principal"
		 "</th><th>Metric</th><th>Start</th><th>End</th><th>Severity</th><th>Total</th>"
		 "<th>Max ratio</th><th>Alerts</th><th>Ended</th></tr>\n");
	for (size_t i = 0; i < r->n_eps && i < MAX_EP_ROWS; i++) {
		const struct rpt_episode *e = &r->eps[i];

		html_raw(f, "<tr><td>");
		html_text(f, e->id, 0);
		html_raw(f, "</td><td>");
		principal_name(f, e->p, 40);
		html_fmt(f, "</td><td>%s</td><td>%s</td><td>%s</td><td><span class=\"sev s%d\">%s"
			 "</span></td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%u"
			 "</td><td>", metric_name((enum metric)e->metric),
			 fmt_time(e->start ? e->start : e->first_alert, 1, a, sizeof(a)),
			 e->ended ? fmt_time(e->end, 1, b, sizeof(b)) : "open", e->max_level & 3,
			 severity_label(e->max_level), fmt_volume((double)e->total, e->metric, v, sizeof(v)),
			 fmt_ratio(e->max_ratio, q, sizeof(q)), e->alerts);
		html_text(f, e->ended ? e->reason : "", 0);
		html_raw(f, "</td></tr>\n");
	}
	html_raw(f, "</table>\n");
	if (r->n_eps > MAX_EP_ROWS)
		html_fmt(f, "<p class=\"note\">%zu more episodes are not listed.</p>\n",
			 r->n_eps - MAX_EP_ROWS);
	html_raw(f, "</section>\n");
}

static void contributors(FILE *f, const char *title, const struct rpt_contrib *t, bool approx,
			 int m, uint64_t total)
{
	struct rank_entry r[RPT_TOPK];
	int n = 0;
	char v[48];

	for (int i = 0; i < RPT_TOPK; i++)
		if (t[i].name && t[i].vol[m])
			r[n++] = (struct rank_entry){ t[i].name, t[i].vol[m], i };
	if (!n)
		return;
	rank_sort(r, (size_t)n);
	html_fmt(f, "<table class=\"top\"><tr><th>%s%s</th><th>%s</th><th>share</th></tr>\n", title,
		 approx ? " (approximate: more were seen)" : "", metric_name((enum metric)m));
	for (int i = 0; i < n; i++) {
		html_raw(f, "<tr><td>");
		html_text(f, r[i].name, 90);
		html_fmt(f, "</td><td class=\"n\">%s</td><td class=\"n\">%.0f%%</td></tr>\n",
			 fmt_volume((double)r[i].volume, m, v, sizeof(v)),
			 total ? 100.0 * (double)(r[i].volume > total ? total : r[i].volume) /
					 (double)total : 0);
	}
	html_raw(f, "</table>\n");
}

/* "chart-KIND-ID-METRIC" when the id is plain, else by index. */
static void chart_id(const struct rpt_principal *p, int m, char *buf, size_t size)
{
	size_t n = strlen(p->id);
	bool plain = n && n <= 64;

	for (size_t i = 0; plain && i < n; i++)
		plain = (p->id[i] >= 'a' && p->id[i] <= 'z') || (p->id[i] >= 'A' && p->id[i] <= 'Z') ||
			(p->id[i] >= '0' && p->id[i] <= '9') || strchr("._-", p->id[i]);
	if (plain)
		snprintf(buf, size, "chart-%s-%s-%s", principal_kind_name(p->kind), p->id,
			 metric_name((enum metric)m));
	else
		snprintf(buf, size, "chart-p%u-%s", p->index, metric_name((enum metric)m));
}

static void principal_section(struct page *pg, size_t first, size_t end)
{
	struct rpt_principal *p = pg->charts[first].p;
	FILE *f = pg->f;
	char id[160], v[48], q[24];

	html_fmt(f, "<article class=\"principal\" id=\"p-%u\"><h3>", p->index);
	principal_name(f, p, 120);
	if (p->alerts)
		html_fmt(f, "<span class=\"sev s%d\">%s</span>", p->max_level & 3,
			 severity_label(p->max_level));
	if (p->profile) {
		html_raw(f, "<span class=\"tag\">profile ");
		html_text(f, p->profile, 60);
		html_raw(f, "</span>");
	}
	if (p->allowed)
		html_raw(f, "<span class=\"tag\">never alerted (allow list)</span>");
	html_raw(f, "</h3>\n<p class=\"note\">");
	if (p->alerts)
		html_fmt(f, "%u alert%s, up to %s its normal. ", p->alerts, p->alerts > 1 ? "s" : "",
			 fmt_ratio(p->max_ratio, q, sizeof(q)));
	else
		html_raw(f, "Among the largest by volume, not alerted. ");
	html_raw(f, "Total read or sent:");
	for (int m = 0; m < M_MAX; m++)
		if (p->m[m] && p->m[m]->total)
			html_fmt(f, " %s %s;", metric_name((enum metric)m),
				 fmt_volume((double)p->m[m]->total, m, v, sizeof(v)));
	html_raw(f, "</p>\n");
	for (size_t i = first; i < end; i++) {
		chart_id(p, pg->charts[i].metric, id, sizeof(id));
		html_fmt(f, "<p class=\"note\">%s per %s window",
			 metric_name((enum metric)pg->charts[i].metric), pg->span.minutes ? "1 m" : "1 h");
		if (!pg->span.minutes && pg->r->hour_step > 1)
			html_fmt(f, " (the largest of each %u h)", pg->r->hour_step);
		html_raw(f, "</p>\n");
		svg_chart(f, pg->r, &pg->span, p, pg->charts[i].metric, id);
		if (p->m[pg->charts[i].metric]->alerts > RPT_MARKS)
			html_fmt(f, "<p class=\"note\">%u alerts on %s: the first %d are marked "
				 "(vigie replay writes them all).</p>\n", p->m[pg->charts[i].metric]->alerts,
				 metric_name((enum metric)pg->charts[i].metric), RPT_MARKS);
	}
	html_raw(f, "<div class=\"tops\">\n");
	contributors(f, "Top processes", p->procs, p->procs_approx, pg->charts[first].metric,
		     p->m[pg->charts[first].metric]->total);
	contributors(f, "Top peers", p->peers, p->peers_approx, pg->charts[first].metric,
		     p->m[pg->charts[first].metric]->total);
	html_raw(f, "</div></article>\n");
}

static void principals(struct page *pg)
{
	FILE *f = pg->f;

	html_raw(f, "<section id=\"principals\"><h2>Principals</h2>\n");
	if (!pg->n_charts) {
		html_raw(f, "<p>No principal with volume.</p></section>\n");
		return;
	}
	html_fmt(f, "<p class=\"legend note\"><span><i class=\"sw\" style=\"background:#3b6fb6\"></i>"
		 "volume per window</span><span><i class=\"sw\" style=\"background:#cfe8d2\"></i>"
		 "normal (read at the end of each %s)</span><span><i class=\"sw\" style=\"border-top:"
		 "2px dashed #d08000;height:0\"></i>alert threshold (%gx normal)</span><span><i "
		 "class=\"sw\" style=\"border-top:2px dotted #6b7280;height:0\"></i>floor</span><span>"
		 "<i class=\"sw\" style=\"background:#e0542a\"></i>alerts</span><span><i class=\"sw\" "
		 "style=\"background:#f6d2d2\"></i>episodes</span>. Volumes on a log scale.</p>\n",
		 pg->span.minutes ? "minute" : "hour", pg->r->ratio);
	for (size_t i = 0; i < pg->n_charts;) {
		size_t j = i + 1;

		while (j < pg->n_charts && pg->charts[j].p == pg->charts[i].p)
			j++;
		principal_section(pg, i, j);
		i = j;
	}
	html_raw(f, "</section>\n");
}

static int heatmaps(struct page *pg)
{
	struct rpt_data *r = pg->r;
	FILE *f = pg->f;

	html_raw(f, "<section id=\"heatmap\"><h2>Database reads per hour</h2>\n");
	if (!r->n_hosts)
		html_raw(f, "<p>No trace was read.</p>\n");
	for (int i = 0; i < r->n_hosts; i++) {
		html_raw(f, "<h3>");
		html_text(f, r->hosts[i].name, 80);
		html_raw(f, i == RPT_MAX_HOSTS - 1 && r->hosts_merged ? " and the other hosts</h3>\n" :
									 "</h3>\n");
		if (svg_heatmap(f, &r->hosts[i], i))
			return -1;
	}
	html_raw(f, "</section>\n");
	return 0;
}

int rpt_write_page(struct rpt_data *r, FILE *f)
{
	struct page pg = { .r = r, .f = f };
	char a[32], b[32];
	int rc = -1;

	rpt_span_of(r, &pg.span);
	if (choose(&pg)) {
		errno = ENOMEM;
		goto out;
	}
	html_raw(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		 "style-src 'unsafe-inline'\">\n<meta name=\"viewport\" content=\"width=device-width, "
		 "initial-scale=1\">\n<meta name=\"generator\" content=\"vigie " VIGIE_VERSION "\">\n"
		 "<title>Vigie report: ");
	html_text(f, r->n_hosts ? r->hosts[0].name : "no host", 80);
	if (r->res.samples)
		html_fmt(f, ", %s to %s", fmt_time(r->res.first_ts, 0, a, sizeof(a)),
			 fmt_time(r->res.last_ts, 0, b, sizeof(b)));
	html_fmt(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header><h1>Vigie report</h1>"
		 "<p class=\"sub\">Exfiltration detection replayed on recorded traces: what was read "
		 "and sent, by whom, against what is normal for them.</p></header>\n<nav><a href=\""
		 "#summary\">Summary</a><a href=\"#timeline\">Alerts</a><a href=\"#principals\">"
		 "Principals</a><a href=\"#heatmap\">Database reads</a></nav>\n", style);
	summary(&pg);
	warnings(&pg);
	timeline(&pg);
	principals(&pg);
	if (heatmaps(&pg)) {
		errno = ENOMEM;
		goto out;
	}
	html_raw(f, "<footer>vigie " VIGIE_VERSION " report. Times are UTC. The same traces and "
		 "configuration give the same file; it runs no script and loads nothing.</footer>\n"
		 "</body>\n</html>\n");
	rc = 0;
out:
	free(pg.alerted);
	free(pg.charts);
	return rc;
}
