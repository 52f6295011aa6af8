/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Building blocks of detection, in bounded memory:
 *  - lhist: a decaying log-scale histogram of past window volumes (half-octave
 *    buckets from 1 to 2^48), from which a robust high quantile is read;
 *  - mwin: the sliding windows of one metric: a ring of 60 minute buckets
 *    (1 h window, slides by the minute), a ring of 24 hour buckets (24 h
 *    window, slides by the hour), and the current minute (1 m window).
 */
#ifndef VIGIE_BASELINE_H
#define VIGIE_BASELINE_H

#include <stdbool.h>
#include <stdint.h>

#define LHIST_BUCKETS 96

struct lhist {
	float count[LHIST_BUCKETS];
	float total;      /* decayed weight */
	uint32_t n;       /* observations ever (not decayed) */
	int32_t decay_day; /* day index of the last decay */
};

int lhist_bucket(uint64_t v);
/* Add one observation v >= 1 made on day `day`; decay applied first. */
void lhist_add(struct lhist *h, uint64_t v, int32_t day, double day_factor);
/* Quantile q in (0,1], log-interpolated within its bucket; 0 if empty. */
double lhist_quantile(const struct lhist *h, double q);
/* Bucket holding quantile q, -1 if empty (cheap: no interpolation). */
int lhist_quantile_bucket(const struct lhist *h, double q);

#define MWIN_MINUTES 60
#define MWIN_HOURS 24

/* What closed while rolling a window forward (values to learn from). */
struct mwin_closed {
	uint64_t minute;  /* closed minute volume, if any */
	bool minute_closed, minute_tainted;
	uint64_t hour;  /* closed aligned hour volume, if any */
	bool hour_closed, hour_tainted;
	uint64_t day;   /* closed UTC day volume, if any */
	bool day_closed, day_tainted;
	int32_t day_index; /* of the closed day */
};

struct mwin {
	int64_t cur_min;  /* minute index (ns / 60e9) of the newest bucket */
	uint64_t minute[MWIN_MINUTES];
	uint64_t hour[MWIN_HOURS];
	uint64_t sum_1h, sum_24h, day_sum;
	/* taint: an episode was open, do not learn from these */
	bool taint_min, taint_hour, taint_day;
	/* first sample of the current activity run (after >= 1 h of silence) */
	uint64_t run_first_ns;
	uint64_t last_ns;
};

void mwin_init(struct mwin *w);
/* Roll to minute index m (>= cur_min), reporting closed values. */
void mwin_roll(struct mwin *w, int64_t m, struct mwin_closed *closed);
/* Add v at time ts (already rolled to its minute). */
void mwin_add(struct mwin *w, uint64_t ts_ns, uint64_t v);
/* Observed volume of window 0..2 (1m, 1h, 24h). */
uint64_t mwin_observed(const struct mwin *w, int window);

static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

#endif
