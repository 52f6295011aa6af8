/* SPDX-License-Identifier: GPL-2.0 */
/* vigie top: live terminal view of what the running sensor sees. */
#ifndef VIGIE_VIEW_TOP_H
#define VIGIE_VIEW_TOP_H

/* argv[0] is "top". Returns the process exit code. */
int top_main(int argc, char **argv);

#endif
