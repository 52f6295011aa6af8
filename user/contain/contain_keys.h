/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VIGIE_CONTAIN_KEYS_H
#define VIGIE_CONTAIN_KEYS_H

#include "base/appuser.h"
#include "detect/detect.h"
#include "pgwire_abi.h"

/* The session quarantine keys of a principal (PK_DB_USER, PK_APP_USER)
 * into keys (at most max): their number, 0 when none can be made (an
 * application user with no databases.app_user). */
int contain_guard_keys(const struct app_user_cfg *au, enum principal_kind kind, const char *id,
		       struct pgwire_guard_key *keys, int max);

#endif
