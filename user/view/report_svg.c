// SPDX-License-Identifier: GPL-2.0
/*
 * vigie report: the inline SVG pictures. A chart of one principal's volume
 * per window (bars) against its normal (band), the alert threshold (ratio
 * x normal), the floor and its alerts and episodes; the timeline of alerts
 * and episodes; the heat map of a host's database reads per hour. Every
 * picture is bounded in size whatever the trace's length: bars and bands
 * are drawn per pixel column at most.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "view/report_data.h"
#include "view/report_html.h"

#define NS_MIN 60000000000ull
#define NS_HOUR (60 * NS_MIN)
#define NS_DAY (24 * NS_HOUR)
#define CW 960        /* chart width */
#define CH 230        /* chart height */
#define PX0 72        /* plot area */
#define PX1 950
#define PY0 10
#define PY1 200
#define NCOL (PX1 - PX0)
#define TL_LABEL 230  /* timeline: label column */
#define TL_ROW 20
/* marks per chart and per timeline row (alerts, episodes): the first ones
 * in time; the tables list them all (RPT_MARKS is in report_data.h) */
#define HM_ROWS 92    /* heat map: more days are grouped per row */

static const char *const sev_color[4] = { "#888888", "#e8a317", "#e0542a", "#a3001b" };

void rpt_span_of(const struct rpt_data *r, struct rpt_span *s)
{
	memset(s, 0, sizeof(*s));
	s->minutes = r->minutes_on;
	if (s->minutes) {
		s->bucket_ns = NS_MIN;
		s->ta = (uint64_t)r->t0_min * NS_MIN;
		s->tb = (uint64_t)(r->last_min + 1) * NS_MIN;
	} else {
		int64_t last = (r->last_min / 60 - r->t0_hour) / r->hour_step + 1;

		s->bucket_ns = r->hour_step * NS_HOUR;
		s->ta = (uint64_t)r->t0_hour * NS_HOUR;
		s->tb = s->ta + (uint64_t)last * s->bucket_ns;
	}
	if (s->tb <= s->ta)
		s->tb = s->ta + s->bucket_ns;
}

static double xat(const struct rpt_span *s, uint64_t t, double x0, double x1)
{
	if (t <= s->ta)
		return x0;
	if (t >= s->tb)
		return x1;
	return x0 + (double)(t - s->ta) / (double)(s->tb - s->ta) * (x1 - x0);
}

/* Time ticks: a step from a ladder, at most 10 over the span; labels
 * "HH:MM", "MM-DD HH:MM" past a day, "MM-DD" for steps of days. */
static void time_axis(FILE *f, const struct rpt_span *s, double x0, double x1, double y0,
		      double y1)
{
	static const uint64_t steps[] = { 1, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880,
					  10080, 20160, 40320, 100800, 201600, 524160 };
	uint64_t span = s->tb - s->ta, step = NS_MIN;
	char b[32];

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		step = steps[i] * NS_MIN;
		if (span / step <= 10)
			break;
	}
	for (uint64_t t = (s->ta + step - 1) / step * step; t <= s->tb; t += step) {
		double x = xat(s, t, x0, x1);
		const char *label = fmt_time(t, step < NS_DAY, b, sizeof(b)) + 5;

		if (step < NS_DAY && span <= NS_DAY)
			label += 6; /* "HH:MM" */
		html_fmt(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\"/>", x,
			 y0, x, y1);
		html_fmt(f, "<text class=\"ax\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>",
			 x, y1 + 14, label);
	}
}

static double log_y(double v, double lo, double hi)
{
	double l = v > 0 ? log10(v) : lo;

	if (l < lo)
		l = lo;
	if (l > hi)
		l = hi;
	return PY1 - (l - lo) / (hi - lo) * (PY1 - PY0);
}

static const struct rpt_series *series_of(const struct rpt_span *s, const struct rpt_metric *pm)
{
	return s->minutes ? &pm->min : &pm->hour;
}

static uint64_t point_t(const struct rpt_span *s, const struct rpt_point *pt)
{
	return s->ta + (uint64_t)pt->idx * s->bucket_ns;
}

/* Step-held normal per pixel column (-1: none). */
static void normal_columns(const struct rpt_span *s, const struct rpt_series *se, float *col)
{
	for (int c = 0; c < NCOL; c++)
		col[c] = -1;
	for (uint32_t i = 0; i < se->n; i++) {
		int a = (int)(xat(s, point_t(s, &se->p[i]), PX0, PX1) - PX0);
		int b = i + 1 < se->n ? (int)(xat(s, point_t(s, &se->p[i + 1]), PX0, PX1) - PX0) : NCOL;

		for (int c = a < 0 ? 0 : a; c < b && c < NCOL; c++)
			col[c] = se->p[i].normal;
		if (a >= 0 && a < NCOL && se->p[i].normal > col[a])
			col[a] = se->p[i].normal; /* several in one column: the largest */
	}
}

/* Runs of columns with a value, as a closed area (fill) or a line. */
static void band_path(FILE *f, const float *col, double mul, double lo, double hi, bool area,
		      const char *cls)
{
	bool open = false;
	double last = 0;

	html_fmt(f, "<path class=\"%s\" d=\"", cls);
	for (int c = 0; c <= NCOL; c++) {
		bool on = c < NCOL && col[c] > 0;
		double y = on ? log_y(col[c] * mul, lo, hi) : 0;

		if (open && !on) {
			html_fmt(f, "H%d", PX0 + c);
			if (area)
				html_fmt(f, "V%dZ", PY1);
		} else if (open && fabs(y - last) > 0.05) {
			html_fmt(f, "H%dV%.1f", PX0 + c, y);
		} else if (!open && on && area) {
			html_fmt(f, "M%d %dV%.1f", PX0 + c, PY1, y);
		} else if (!open && on) {
			html_fmt(f, "M%d %.1f", PX0 + c, y);
		}
		if (on && (!open || fabs(y - last) > 0.05))
			last = y;
		open = on;
	}
	html_raw(f, "\"/>");
}

static void alert_title(FILE *f, const struct rpt_alert *a)
{
	char t[32], v[48], n[48], q[24];

	fmt_time(a->ts, 1, t, sizeof(t));
	html_fmt(f, "<title>%s UTC, %s: %s in %s, %s the normal of %s (", t,
		 severity_label(a->level), fmt_volume((double)a->observed, a->metric, v, sizeof(v)),
		 window_name((enum window)a->window), fmt_ratio(a->ratio, q, sizeof(q)),
		 fmt_volume(a->normal, a->metric, n, sizeof(n)));
	html_text(f, a->reference, 0);
	html_fmt(f, ", %s)</title>", a->reason[0] ? a->reason : "new");
}

static void episode_title(FILE *f, const struct rpt_episode *e)
{
	char a[32], b[32], v[48], q[24];

	html_raw(f, "<title>episode ");
	html_text(f, e->id, 0);
	html_fmt(f, ": %s to %s UTC, %s, up to %s, %s%s</title>",
		 fmt_time(e->start ? e->start : e->first_alert, 1, a, sizeof(a)),
		 e->ended ? fmt_time(e->end, 1, b, sizeof(b)) : "the end", severity_label(e->max_level),
		 fmt_ratio(e->max_ratio, q, sizeof(q)), fmt_volume((double)e->total, e->metric, v, sizeof(v)),
		 e->ended ? "" : " (still open)");
}

static void value_range(const struct rpt_data *r, const struct rpt_series *se, int m, int w,
			const struct rpt_principal *p, double *lo, double *hi)
{
	double mx = r->floor[m][w], mn = r->floor[m][w] > 0 ? r->floor[m][w] : 1;

	for (uint32_t i = 0; i < se->n; i++) {
		double o = (double)se->p[i].obs, n = se->p[i].normal;

		if (o > mx)
			mx = o;
		if (o > 0 && o < mn)
			mn = o;
		if (n > 0 && n * r->ratio > mx)
			mx = n * r->ratio;
		if (n > 0 && n < mn)
			mn = n;
	}
	for (size_t i = 0; i < r->n_alerts; i++)
		if (r->alerts[i].p == p && r->alerts[i].metric == m && r->alerts[i].normal > 0 &&
		    r->alerts[i].normal < mn)
			mn = r->alerts[i].normal;
	*lo = floor(log10(mn > 1 ? mn : 1));
	*hi = ceil(log10(mx > 1 ? mx * 1.05 : 10));
	if (*hi <= *lo)
		*hi = *lo + 1;
	if (*hi - *lo > 12)
		*lo = *hi - 12;
}

void svg_chart(FILE *f, const struct rpt_data *r, const struct rpt_span *s,
	       const struct rpt_principal *p, int m, const char *id)
{
	const struct rpt_metric *pm = p->m[m];
	const struct rpt_series *se = series_of(s, pm);
	int w = s->minutes ? W_1M : W_1H;
	double lo, hi, bw = (double)s->bucket_ns / (double)(s->tb - s->ta) * NCOL;
	float ncol[NCOL];
	char b[48];

	value_range(r, se, m, w, p, &lo, &hi);
	html_fmt(f, "<svg id=\"%s\" class=\"chart\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
		 "role=\"img\" aria-label=\"%s per %s window\">", id, CW, CH, CW, CH,
		 metric_name((enum metric)m), window_name((enum window)w));
	/* decades */
	for (int d = (int)lo; d <= (int)hi; d++) {
		double y = log_y(pow(10, d), lo, hi);

		html_fmt(f, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>", PX0, y,
			 PX1, y);
		html_fmt(f, "<text class=\"ax\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
			 PX0 - 6, y + 4, fmt_axis(pow(10, d), m, b, sizeof(b)));
	}
	time_axis(f, s, PX0, PX1, PY0, PY1);
	/* episodes behind everything */
	for (size_t i = 0, marked = 0; i < r->n_eps && marked < RPT_MARKS; i++) {
		const struct rpt_episode *e = &r->eps[i];
		double xa, xb;

		if (e->p != p || e->metric != m)
			continue;
		marked++;
		xa = xat(s, e->start ? e->start : e->first_alert, PX0, PX1);
		xb = e->ended ? xat(s, e->end + s->bucket_ns, PX0, PX1) : PX1;
		html_fmt(f, "<rect class=\"ep\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\">", xa,
			 PY0, xb - xa > 1 ? xb - xa : 1, PY1 - PY0);
		episode_title(f, e);
		html_raw(f, "</rect>");
	}
	normal_columns(s, se, ncol);
	band_path(f, ncol, 1, lo, hi, true, "band");
	band_path(f, ncol, r->ratio, lo, hi, false, "thr");
	if (r->floor[m][w] > 0) {
		double y = log_y(r->floor[m][w], lo, hi);

		html_fmt(f, "<line class=\"floor\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>", PX0,
			 y, PX1, y);
	}
	/* the volumes: one bar per bucket, or the largest per pixel column */
	if (bw >= 1.5) {
		html_raw(f, "<path class=\"obs\" d=\"");
		for (uint32_t i = 0; i < se->n; i++) {
			double xa = xat(s, point_t(s, &se->p[i]), PX0, PX1), xb = xa + bw;

			if (!se->p[i].obs)
				continue;
			if (bw > 3)
				xb -= 1;
			html_fmt(f, "M%.1f %dV%.1fH%.1fV%dZ", xa, PY1,
				 log_y((double)se->p[i].obs, lo, hi), xb, PY1);
		}
		html_raw(f, "\"/>");
	} else {
		uint64_t col[NCOL];

		memset(col, 0, sizeof(col));
		for (uint32_t i = 0; i < se->n; i++) {
			int c = (int)(xat(s, point_t(s, &se->p[i]), PX0, PX1) - PX0);

			c = c < 0 ? 0 : c >= NCOL ? NCOL - 1 : c;
			if (se->p[i].obs > col[c])
				col[c] = se->p[i].obs;
		}
		html_raw(f, "<path class=\"obsl\" d=\"");
		for (int c = 0; c < NCOL; c++)
			if (col[c])
				html_fmt(f, "M%d.5 %dV%.1f", PX0 + c, PY1, log_y((double)col[c], lo, hi));
		html_raw(f, "\"/>");
	}
	/* alerts */
	for (size_t i = 0, marked = 0; i < r->n_alerts && marked < RPT_MARKS; i++) {
		const struct rpt_alert *a = &r->alerts[i];
		double x;

		if (a->p != p || a->metric != m)
			continue;
		marked++;
		x = xat(s, a->ts, PX0, PX1);
		html_fmt(f, "<g class=\"al\"><line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
			 "stroke=\"%s\"/><path d=\"M%.1f %dl-5 -9h10z\" fill=\"%s\"/>", x, PY0, x, PY1,
			 sev_color[a->level & 3], x, PY0 + 9, sev_color[a->level & 3]);
		alert_title(f, a);
		html_raw(f, "</g>");
	}
	html_fmt(f, "<rect class=\"frame\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/></svg>\n",
		 PX0, PY0, NCOL, PY1 - PY0);
}

void svg_timeline(FILE *f, const struct rpt_data *r, const struct rpt_span *s,
		  struct rpt_principal *const *rows, int n)
{
	int h = 24 + n * TL_ROW;

	html_fmt(f, "<svg id=\"timeline-svg\" class=\"timeline\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		 "height=\"%d\" role=\"img\" aria-label=\"alerts and episodes over time\">", CW,
		 h, CW, h);
	time_axis(f, s, TL_LABEL, PX1, 4, h - 20);
	for (int i = 0; i < n; i++) {
		const struct rpt_principal *p = rows[i];
		double y = 4 + i * TL_ROW + TL_ROW / 2.0;
		int drawn = 0;

		html_fmt(f, "<a href=\"#p-%u\"><text class=\"lbl\" x=\"4\" y=\"%.1f\">%s ", p->index,
			 y + 4, principal_kind_name(p->kind));
		html_text(f, p->id, 30);
		html_raw(f, "</text></a>");
		html_fmt(f, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>",
			 TL_LABEL, y, PX1, y);
		for (size_t e = 0, marked = 0; e < r->n_eps && marked < RPT_MARKS; e++) {
			const struct rpt_episode *ep = &r->eps[e];
			double xa, xb;

			if (ep->p != p)
				continue;
			marked++;
			xa = xat(s, ep->start ? ep->start : ep->first_alert, TL_LABEL, PX1);
			xb = ep->ended ? xat(s, ep->end, TL_LABEL, PX1) : PX1;
			html_fmt(f, "<rect class=\"tep\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"12\" "
				 "fill=\"%s\">", xa, y - 6, xb - xa > 2 ? xb - xa : 2,
				 sev_color[ep->max_level & 3]);
			episode_title(f, ep);
			html_raw(f, "</rect>");
		}
		for (size_t a = 0; a < r->n_alerts && drawn < RPT_MARKS; a++) {
			if (r->alerts[a].p != p)
				continue;
			html_fmt(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\">",
				 xat(s, r->alerts[a].ts, TL_LABEL, PX1), y,
				 sev_color[r->alerts[a].level & 3]);
			alert_title(f, &r->alerts[a]);
			html_raw(f, "</circle>");
			drawn++;
		}
	}
	html_raw(f, "</svg>\n");
}

/* Blues from light to dark, by t in [0, 1]. */
static void heat_color(double t, char *buf, size_t size)
{
	static const int lo[3] = { 0xde, 0xeb, 0xf7 }, hi[3] = { 0x08, 0x30, 0x6b };
	int c[3];

	if (t < 0)
		t = 0;
	if (t > 1)
		t = 1;
	for (int i = 0; i < 3; i++)
		c[i] = (int)lround(lo[i] + (hi[i] - lo[i]) * t);
	snprintf(buf, size, "#%02x%02x%02x", c[0], c[1], c[2]);
}

struct heat_sum {
	uint64_t rows, bytes, file_bytes;
};

/* A host's reads on a grid of rows (days, or several days past HM_ROWS)
 * by hour of day: 0, or -1 (out of memory). */
int svg_heatmap(FILE *f, const struct rpt_host *h, int idx)
{
	int64_t day0, days, per;
	struct heat_sum *g;
	uint64_t max = 0;
	bool rows = false;
	int height, rowc, width = 100 + 24 * 26 + 8;
	char b[48], t[32], v1[48], v2[48], v3[48];

	if (!h->n) {
		html_raw(f, "<p>No database reads in the traces of this host.</p>\n");
		return 0;
	}
	day0 = h->cells[0].hour / 24;
	days = h->cells[h->n - 1].hour / 24 - day0 + 1;
	per = (days + HM_ROWS - 1) / HM_ROWS;
	rowc = (int)((days + per - 1) / per);
	if (!(g = calloc((size_t)rowc * 24, sizeof(*g))))
		return -1;
	for (size_t i = 0; i < h->n; i++) {
		struct heat_sum *c = &g[(h->cells[i].hour / 24 - day0) / per * 24 + h->cells[i].hour % 24];

		c->rows += h->cells[i].rows;
		c->bytes += h->cells[i].bytes;
		c->file_bytes += h->cells[i].file_bytes;
		rows |= h->cells[i].rows > 0;
	}
	for (int i = 0; i < rowc * 24; i++) {
		uint64_t v = rows ? g[i].rows : g[i].bytes + g[i].file_bytes;

		if (v > max)
			max = v;
	}
	height = 24 + rowc * 16 + 4;
	html_fmt(f, "<p class=\"note\">Colour: %s per hour (UTC), log scale, the darkest %s%s.</p>\n",
		 rows ? "records read" : "bytes read (database traffic and files)",
		 fmt_volume((double)max, rows ? M_DB_ROWS : M_DB_BYTES, b, sizeof(b)),
		 per > 1 ? "; each row sums several days" : "");
	html_fmt(f, "<svg id=\"heatmap-%d\" class=\"heatmap\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		 "height=\"%d\" role=\"img\" aria-label=\"database reads per hour\">", idx, width,
		 height, width, height);
	for (int hr = 0; hr < 24; hr += 3)
		html_fmt(f, "<text class=\"ax\" x=\"%d\" y=\"14\">%02d:00</text>", 100 + hr * 26, hr);
	for (int row = 0; row < rowc; row++) {
		fmt_time((uint64_t)(day0 + row * per) * NS_DAY, 0, t, sizeof(t));
		html_fmt(f, "<text class=\"ax\" x=\"4\" y=\"%d\">%s</text>"
			 "<rect class=\"hz\" x=\"100\" y=\"%d\" width=\"%d\" height=\"14\"/>",
			 24 + row * 16 + 11, t, 24 + row * 16, 24 * 26 - 1);
		for (int hod = 0; hod < 24; hod++) {
			const struct heat_sum *c = &g[row * 24 + hod];
			uint64_t v = rows ? c->rows : c->bytes + c->file_bytes;

			if (!v)
				continue;
			heat_color(max > 1 ? log((double)v) / log((double)max) : 1, b, sizeof(b));
			fmt_time((uint64_t)(day0 + row * per) * NS_DAY + (uint64_t)hod * NS_HOUR, 1, t,
				 sizeof(t));
			html_fmt(f, "<rect x=\"%d\" y=\"%d\" width=\"25\" height=\"14\" fill=\"%s\">"
				 "<title>%s UTC%s: %s, %s, files %s</title></rect>", 100 + hod * 26,
				 24 + row * 16, b, t, per > 1 ? " and the same hour of the row's days" : "",
				 fmt_volume((double)c->rows, M_DB_ROWS, v1, sizeof(v1)),
				 fmt_volume((double)c->bytes, M_DB_BYTES, v2, sizeof(v2)),
				 fmt_volume((double)c->file_bytes, M_DB_BYTES, v3, sizeof(v3)));
		}
	}
	html_raw(f, "</svg>\n");
	free(g);
	return 0;
}
