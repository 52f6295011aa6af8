#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write the subset of the ECS field definitions that Vigie's checker needs
(tests/data/ecs/ecs_fields.tsv and ecs_allowed.tsv) from elastic/ecs's
generated/ecs/ecs_flat.yml. Developer tool (python3-yaml); the outputs are
shipped, so building and testing never need it.

Usage: tools/ecs-subset.py ECS_FLAT_YML OUTDIR
"""
import sys
import yaml

# field sets whose fields Vigie emits (or may emit), and how deep to keep
# them: deeper names are reused sets (process.parent.group_leader...) that
# Vigie does not write.
SETS = ("@timestamp", "message", "labels", "tags", "agent", "destination", "ecs",
        "event", "file", "host", "network", "process", "related", "rule", "source",
        "user", "service", "observer")
MAX_DEPTH = 3


def keep(name):
    top = name.split(".")[0]
    if top not in SETS:
        return False
    if name.startswith(("event.", "related.", "rule.")):
        return True
    parts = name.split(".")
    if len(parts) > MAX_DEPTH:
        return False
    if len(parts) == 3 and parts[1] not in ("parent", "os", "geo", "audit", "group"):
        return False
    return True


def main():
    src, out = sys.argv[1], sys.argv[2]
    flat = yaml.safe_load(open(src))
    fields = sorted(n for n in flat if keep(n))
    with open(out + "/ecs_fields.tsv", "w") as f:
        f.write("# name\ttype\tarray (normalize) - subset of ecs_flat.yml, see VERSION\n")
        for n in fields:
            d = flat[n]
            arr = "array" if "array" in (d.get("normalize") or []) else "-"
            f.write("%s\t%s\t%s\n" % (n, d["type"], arr))
    with open(out + "/ecs_allowed.tsv", "w") as f:
        f.write("# field\tallowed value\texpected event.type values (event.category only)\n")
        for n in fields:
            for a in flat[n].get("allowed_values") or []:
                exp = a.get("expected_event_types")
                f.write("%s\t%s\t%s\n" % (n, a["name"], ",".join(exp) if exp else "-"))
    print("%d fields" % len(fields))


if __name__ == "__main__":
    main()
