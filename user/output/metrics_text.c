// SPDX-License-Identifier: GPL-2.0
/* Prometheus text exposition format 0.0.4: families, samples, histograms. */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "output/metrics.h"

void mx_text_free(struct mx_text *t)
{
	if (!t)
		return;
	free(t->s);
	t->s = NULL;
	t->len = t->cap = 0;
}

static void put(struct mx_text *t, const char *s, size_t n)
{
	if (t->oom)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		char *p;

		while (t->len + n + 1 > cap)
			cap *= 2;
		p = realloc(t->s, cap);
		if (!p) {
			t->oom = true;
			return;
		}
		t->s = p;
		t->cap = cap;
	}
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
}

static void puts_(struct mx_text *t, const char *s)
{
	put(t, s, strlen(s));
}

/* Escapes backslash and newline, and the double quote when quoted. */
static void put_escaped(struct mx_text *t, const char *s, bool quoted)
{
	for (; *s; s++) {
		if (*s == '\\')
			puts_(t, "\\\\");
		else if (*s == '\n')
			puts_(t, "\\n");
		else if (*s == '"' && quoted)
			puts_(t, "\\\"");
		else
			put(t, s, 1);
	}
}

void mx_family(struct mx_text *t, const char *name, const char *type, const char *help)
{
	puts_(t, "# HELP ");
	puts_(t, name);
	puts_(t, " ");
	put_escaped(t, help, false);
	puts_(t, "\n# TYPE ");
	puts_(t, name);
	puts_(t, " ");
	puts_(t, type);
	puts_(t, "\n");
}

void mx_format_double(char *buf, size_t size, double v)
{
	if (isnan(v)) {
		snprintf(buf, size, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

static void put_labels(struct mx_text *t, const char *const *labels, const char *le)
{
	bool any = false;

	if ((!labels || !labels[0]) && !le)
		return;
	puts_(t, "{");
	for (int i = 0; labels && labels[i] && labels[i + 1]; i += 2) {
		puts_(t, any ? "," : "");
		puts_(t, labels[i]);
		puts_(t, "=\"");
		put_escaped(t, labels[i + 1], true);
		puts_(t, "\"");
		any = true;
	}
	if (le) {
		puts_(t, any ? ",le=\"" : "le=\"");
		puts_(t, le);
		puts_(t, "\"");
	}
	puts_(t, "}");
}

static void sample_str(struct mx_text *t, const char *name, const char *const *labels,
		       const char *le, const char *value)
{
	puts_(t, name);
	put_labels(t, labels, le);
	puts_(t, " ");
	puts_(t, value);
	puts_(t, "\n");
}

void mx_sample(struct mx_text *t, const char *name, const char *const *labels, double value)
{
	char v[40];

	mx_format_double(v, sizeof(v), value);
	sample_str(t, name, labels, NULL, v);
}

void mx_sample_u64(struct mx_text *t, const char *name, const char *const *labels, uint64_t value)
{
	char v[24];

	snprintf(v, sizeof(v), "%llu", (unsigned long long)value);
	sample_str(t, name, labels, NULL, v);
}

/* ---- counters keyed by a label value ------------------------------------ */

static int kv_find(const struct mx_kv *kv, const char *key)
{
	for (int i = 0; i < kv->n; i++)
		if (!strcmp(kv->key[i], key))
			return i;
	return -1;
}

void mx_kv_add(struct mx_kv *kv, const char *key, uint64_t delta)
{
	int i;

	if (!key || !*key || strlen(key) >= MX_KEY_LEN)
		key = "other";
	i = kv_find(kv, key);
	if (i < 0 && kv->n >= MX_KV_MAX - 1)
		key = "other"; /* the last slot is kept for "other" */
	i = kv_find(kv, key);
	if (i < 0) {
		if (kv->n >= MX_KV_MAX)
			return;
		i = kv->n++;
		snprintf(kv->key[i], MX_KEY_LEN, "%s", key);
		kv->val[i] = 0;
	}
	kv->val[i] += delta;
}

uint64_t mx_kv_get(const struct mx_kv *kv, const char *key)
{
	int i = kv_find(kv, key);

	return i < 0 ? 0 : kv->val[i];
}

void mx_kv_write(struct mx_text *t, const char *name, const char *label, const struct mx_kv *kv)
{
	int order[MX_KV_MAX];

	for (int i = 0; i < kv->n; i++) {
		int j = i;

		while (j > 0 && strcmp(kv->key[order[j - 1]], kv->key[i]) > 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	for (int i = 0; i < kv->n; i++) {
		const char *labels[] = { label, kv->key[order[i]], NULL };

		mx_sample_u64(t, name, labels, kv->val[order[i]]);
	}
}

/* ---- histograms ------------------------------------------------------------ */

void mx_hist_init(struct mx_hist *h, const double *bounds, int n)
{
	memset(h, 0, sizeof(*h));
	if (n > MX_HIST_MAX)
		n = MX_HIST_MAX;
	for (int i = 0; i < n; i++)
		h->bounds[i] = bounds[i];
	h->n_bounds = n;
}

void mx_hist_observe(struct mx_hist *h, double v)
{
	int i = 0;

	while (i < h->n_bounds && v > h->bounds[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += v;
}

void mx_hist_write(struct mx_text *t, const char *name, const struct mx_hist *h)
{
	char metric[160], le[40], v[40];
	uint64_t cum = 0;

	snprintf(metric, sizeof(metric), "%s_bucket", name);
	for (int i = 0; i <= h->n_bounds; i++) {
		cum += h->counts[i];
		if (i < h->n_bounds)
			mx_format_double(le, sizeof(le), h->bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		snprintf(v, sizeof(v), "%llu", (unsigned long long)cum);
		sample_str(t, metric, NULL, le, v);
	}
	snprintf(metric, sizeof(metric), "%s_sum", name);
	mx_sample(t, metric, NULL, h->sum);
	snprintf(metric, sizeof(metric), "%s_count", name);
	mx_sample_u64(t, metric, NULL, h->count);
}
