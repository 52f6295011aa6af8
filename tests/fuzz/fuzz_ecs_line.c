// SPDX-License-Identifier: GPL-2.0
/* tools/ecs-check's reading of one NDJSON line (any bytes a file holds). */
#include "fuzz.h"
#include "output/ecs_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ecs_schema *schema;
	char err[512] = "", *line = fuzz_text(data, size);

	if (!schema)
		schema = ecs_schema_load("tests/data/ecs", err, sizeof(err));
	FUZZ_CHECK(schema != NULL);
	if (line && ecs_check_line(schema, line, err, sizeof(err)))
		FUZZ_CHECK(err[0]);
	free(line);
	return 0;
}
