// SPDX-License-Identifier: GPL-2.0
/* The configuration file: parsed, checked, its detection and containment
 * sections parsed; an error always comes with a message. */
#include "fuzz.h"
#include "base/config.h"
#include "base/log.h"
#include "contain/contain.h"
#include "detect/detect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vigie_config cfg;
	struct detect_config dc;
	struct contain_config cc;
	char err[512] = "", *text = fuzz_text(data, size);

	log_set_level(LOG_QUIET); /* refusals are expected: their messages are checked, not printed */
	if (!text || config_init(&cfg)) {
		free(text);
		return 0;
	}
	if (config_load_string(&cfg, text, err, sizeof(err)) == 0) {
		err[0] = '\0';
		if (config_validate(&cfg, err, sizeof(err)))
			FUZZ_CHECK(err[0]);
		err[0] = '\0';
		if (detect_config_parse(cfg.detection, &dc, err, sizeof(err)) == 0)
			detect_config_free(&dc);
		else
			FUZZ_CHECK(err[0]);
		err[0] = '\0';
		if (contain_config_parse(cfg.containment, true, &cc, err, sizeof(err)) == 0) {
			/* accepted: every value within its bounds */
			FUZZ_CHECK(cc.quarantine_s >= 1 && cc.max_actions_per_hour >= 1 &&
				   cc.max_actions_per_hour <= 1000 && cc.n_never <= CONTAIN_MAX_NEVER);
			contain_config_free(&cc);
		} else {
			FUZZ_CHECK(err[0]);
		}
	} else {
		FUZZ_CHECK(err[0]);
	}
	config_free(&cfg);
	free(text);
	return 0;
}
