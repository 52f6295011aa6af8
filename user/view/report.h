/* SPDX-License-Identifier: GPL-2.0 */
/* vigie report: a self-contained HTML report of recorded traces. */
#ifndef VIGIE_VIEW_REPORT_H
#define VIGIE_VIEW_REPORT_H

/* argv[0] is "report". Returns the process exit code. */
int report_main(int argc, char **argv);

#endif
