// SPDX-License-Identifier: GPL-2.0
/* Decaying log histograms and sliding windows (see baseline.h). */
#include <math.h>
#include <string.h>
#include "detect/baseline.h"

#define MIN_PER_HOUR 60

static uint64_t sat_sub(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }
#define MIN_PER_DAY 1440

/* Half-octave bucket: b = floor(2 * log2(v)), v >= 1. thresholds[k] is the
 * smallest integer >= 2^k * sqrt(2). */
static uint64_t half_thresholds[64];

static void init_thresholds(void)
{
	for (int k = 0; k < 63; k++)
		half_thresholds[k] = (uint64_t)ceil(M_SQRT2 * ldexp(1.0, k));
	half_thresholds[63] = UINT64_MAX;
}

int lhist_bucket(uint64_t v)
{
	int k, b;

	if (v <= 1)
		return 0;
	if (!half_thresholds[0])
		init_thresholds();
	k = 63 - __builtin_clzll(v);
	b = 2 * k + (v >= half_thresholds[k] ? 1 : 0);
	return b < LHIST_BUCKETS ? b : LHIST_BUCKETS - 1;
}

static void lhist_decay(struct lhist *h, int32_t day, double day_factor)
{
	double f;
	int32_t gap;

	if (h->n == 0 || day <= h->decay_day) {
		if (h->n == 0)
			h->decay_day = day;
		return;
	}
	gap = day - h->decay_day;
	f = gap > 3650 ? 0 : pow(day_factor, gap);
	h->total = 0;
	for (int i = 0; i < LHIST_BUCKETS; i++) {
		h->count[i] = (float)(h->count[i] * f);
		h->total += h->count[i];
	}
	h->decay_day = day;
}

void lhist_add(struct lhist *h, uint64_t v, int32_t day, double day_factor)
{
	if (v == 0)
		return;
	lhist_decay(h, day, day_factor);
	h->count[lhist_bucket(v)] += 1.0f;
	h->total += 1.0f;
	h->n++;
}

double lhist_quantile(const struct lhist *h, double q)
{
	double target, acc = 0;

	if (h->total <= 0)
		return 0;
	target = q * h->total;
	for (int i = 0; i < LHIST_BUCKETS; i++) {
		double c = h->count[i];

		if (c <= 0)
			continue;
		if (acc + c >= target) {
			double frac = (target - acc) / c;

			if (frac < 0)
				frac = 0;
			if (frac > 1)
				frac = 1;
			/* bucket i spans [2^(i/2), 2^((i+1)/2)) */
			return pow(2.0, (i + frac) / 2.0);
		}
		acc += c;
	}
	/* rounding: the last non-empty bucket's upper edge */
	for (int i = LHIST_BUCKETS - 1; i >= 0; i--)
		if (h->count[i] > 0)
			return pow(2.0, (i + 1) / 2.0);
	return 0;
}

int lhist_quantile_bucket(const struct lhist *h, double q)
{
	double target, acc = 0;
	int last = -1;

	if (h->total <= 0)
		return -1;
	target = q * h->total;
	for (int i = 0; i < LHIST_BUCKETS; i++) {
		if (h->count[i] <= 0)
			continue;
		acc += h->count[i];
		last = i;
		if (acc >= target)
			return i;
	}
	return last;
}

void mwin_init(struct mwin *w)
{
	memset(w, 0, sizeof(*w));
	w->cur_min = -1;
}

static void close_values(struct mwin *w, int64_t m, struct mwin_closed *c)
{
	int64_t old = w->cur_min;

	c->minute = w->minute[old % MWIN_MINUTES];
	c->minute_closed = c->minute > 0;
	c->minute_tainted = w->taint_min;
	w->taint_min = false;
	if (m / MIN_PER_HOUR != old / MIN_PER_HOUR) {
		c->hour = w->hour[(old / MIN_PER_HOUR) % MWIN_HOURS];
		c->hour_closed = c->hour > 0;
		c->hour_tainted = w->taint_hour;
		w->taint_hour = false;
	}
	if (m / MIN_PER_DAY != old / MIN_PER_DAY) {
		c->day = w->day_sum;
		c->day_closed = c->day > 0;
		c->day_tainted = w->taint_day;
		c->day_index = (int32_t)(old / MIN_PER_DAY);
		w->day_sum = 0;
		w->taint_day = false;
	}
}

static void expire(struct mwin *w, int64_t m)
{
	int64_t old = w->cur_min;
	int64_t oh = old / MIN_PER_HOUR, nh = m / MIN_PER_HOUR;

	if (m - old >= MWIN_MINUTES) {
		memset(w->minute, 0, sizeof(w->minute));
		w->sum_1h = 0;
	} else {
		int idx = (int)((old + 1) % MWIN_MINUTES);

		for (int64_t i = old + 1; i <= m; i++) {
			w->sum_1h = sat_sub(w->sum_1h, w->minute[idx]);
			w->minute[idx] = 0;
			if (++idx == MWIN_MINUTES)
				idx = 0;
		}
	}
	if (nh - oh >= MWIN_HOURS) {
		memset(w->hour, 0, sizeof(w->hour));
		w->sum_24h = 0;
	} else {
		for (int64_t h = oh + 1; h <= nh; h++) {
			w->sum_24h = sat_sub(w->sum_24h, w->hour[h % MWIN_HOURS]);
			w->hour[h % MWIN_HOURS] = 0;
		}
	}
}

void mwin_roll(struct mwin *w, int64_t m, struct mwin_closed *c)
{
	memset(c, 0, sizeof(*c));
	if (w->cur_min < 0) {
		w->cur_min = m;
		return;
	}
	if (m <= w->cur_min)
		return;
	close_values(w, m, c);
	expire(w, m);
	w->cur_min = m;
}

void mwin_add(struct mwin *w, uint64_t ts_ns, uint64_t v)
{
	int64_t m = w->cur_min;

	if (w->sum_1h == 0)
		w->run_first_ns = ts_ns;
	w->last_ns = ts_ns;
	w->minute[m % MWIN_MINUTES] = sat_add(w->minute[m % MWIN_MINUTES], v);
	w->hour[(m / MIN_PER_HOUR) % MWIN_HOURS] = sat_add(w->hour[(m / MIN_PER_HOUR) % MWIN_HOURS], v);
	w->sum_1h = sat_add(w->sum_1h, v);
	w->sum_24h = sat_add(w->sum_24h, v);
	w->day_sum = sat_add(w->day_sum, v);
}

uint64_t mwin_observed(const struct mwin *w, int window)
{
	if (w->cur_min < 0)
		return 0;
	switch (window) {
	case 0: return w->minute[w->cur_min % MWIN_MINUTES];
	case 1: return w->sum_1h;
	default: return w->sum_24h;
	}
}
