// SPDX-License-Identifier: GPL-2.0
/* vigie top: the terminal (top_int.h). Plain termios and ANSI escapes:
 * the alternate screen, the cursor hidden, raw input; everything restored
 * on every way out (top_term_leave, also at exit). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include "view/top_int.h"

#define ENTER "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J"
#define LEAVE "\x1b[0m\x1b[?25h\x1b[?1049l"

static struct termios saved;
static int saved_in = -1, saved_out = -1;
static bool registered;

int top_write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

void top_term_leave(void)
{
	if (saved_in < 0)
		return;
	tcsetattr(saved_in, TCSAFLUSH, &saved);
	top_write_all(saved_out, LEAVE, sizeof(LEAVE) - 1);
	saved_in = saved_out = -1;
}

/* A crash: the terminal back first (tcsetattr and write are
 * async-signal-safe), then the signal's own action. */
static void on_fatal(int sig)
{
	if (saved_in >= 0) {
		tcsetattr(saved_in, TCSANOW, &saved);
		if (write(saved_out, LEAVE, sizeof(LEAVE) - 1) < 0)
			saved_in = -1;
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

int top_term_enter(int in_fd, int out_fd)
{
	struct termios raw;

	if (saved_in >= 0)
		return 0;
	if (!isatty(in_fd) || !isatty(out_fd) || tcgetattr(in_fd, &saved))
		return -1;
	raw = saved;
	/* keys one by one, not echoed, Ctrl-C and Ctrl-Z read as keys; output
	 * processing kept (a newline still returns the carriage) */
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG | IEXTEN);
	raw.c_iflag &= ~(tcflag_t)(IXON | ICRNL | INLCR | ISTRIP | BRKINT);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(in_fd, TCSAFLUSH, &raw))
		return -1;
	saved_in = in_fd;
	saved_out = out_fd;
	if (!registered) {
		static const int fatal[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };

		atexit(top_term_leave);
		for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
			signal(fatal[i], on_fatal);
		registered = true;
	}
	if (top_write_all(out_fd, ENTER, sizeof(ENTER) - 1)) {
		top_term_leave();
		return -1;
	}
	return 0;
}

void top_term_size(int fd, int *width, int *height)
{
	struct winsize ws;

	*width = 80;
	*height = 24;
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
		*width = ws.ws_col;
		*height = ws.ws_row;
	}
}

int top_keys(const char *buf, size_t len, enum top_key *keys, int max)
{
	int n = 0;

	for (size_t i = 0; i < len && n < max; i++) {
		unsigned char c = (unsigned char)buf[i];
		enum top_key k = TK_OTHER;

		if (c == 0x1b) {
			/* an escape sequence (arrows, function keys): CSI or SS3
			 * and its parameters up to the final byte */
			if (i + 1 < len && (buf[i + 1] == '[' || buf[i + 1] == 'O')) {
				i += 2;
				while (i < len && ((unsigned char)buf[i] < 0x40 || (unsigned char)buf[i] > 0x7e))
					i++;
				continue;
			}
			k = TK_OTHER; /* Escape alone */
		} else {
			switch (c) {
			case 'q': case 'Q': case 0x03: case 0x04:
				k = TK_QUIT;
				break;
			case 'p': case 'P': case ' ':
				k = TK_PAUSE;
				break;
			case 'r': case 'R':
				k = TK_SORT_RATIO;
				break;
			case 'v': case 'V':
				k = TK_SORT_VOLUME;
				break;
			case 's': case 'S':
				k = TK_SORT_NEXT;
				break;
			case 'k': case 'K':
				k = TK_KIND;
				break;
			case 'h': case 'H': case '?': case '/':
				k = TK_HELP;
				break;
			case 0x0c: /* Ctrl-L */
				k = TK_REDRAW;
				break;
			case 0x1a: /* Ctrl-Z */
				k = TK_SUSPEND;
				break;
			default:
				break;
			}
		}
		keys[n++] = k;
	}
	return n;
}
