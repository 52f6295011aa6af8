// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "base/log.h"
#include "base/safefile.h"
#include "output/syslog_spool.h"

#define MAGIC "VSPOOL1\n"
#define HEADER 16
#define MAX_RECORD (16u << 20) /* far above any message (maxMessageSize) */

struct spool {
	char *path;
	int fd;
	uint64_t max_bytes;
	uint64_t read_off, end_off; /* oldest unsent record, end of the last */
	uint64_t records;
};

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int write_header(struct spool *sp)
{
	unsigned char h[HEADER];

	memcpy(h, MAGIC, 8);
	put_le64(h + 8, sp->read_off);
	if (pwrite(sp->fd, h, HEADER, 0) != HEADER)
		return errno ? -errno : -EIO;
	return 0;
}

/* Walk the records from read_off: count them, cut a torn last one. */
static int recover(struct spool *sp, uint64_t size)
{
	uint64_t off = sp->read_off;
	unsigned char l[4];

	sp->records = 0;
	while (off + 4 <= size) {
		uint32_t len;

		if (pread(sp->fd, l, 4, (off_t)off) != 4)
			return errno ? -errno : -EIO;
		len = get_le32(l);
		if (len == 0 || len > MAX_RECORD || off + 4 + len > size)
			break;
		off += 4 + (uint64_t)len;
		sp->records++;
	}
	if (off != size) {
		log_warn("syslog spool %s: %llu bytes of a record cut short (the daemon stopped "
			 "while writing it) removed", sp->path, (unsigned long long)(size - off));
		if (ftruncate(sp->fd, (off_t)off))
			return -errno;
	}
	sp->end_off = off;
	return 0;
}

/* Not a spool of ours: set it aside as FILE.bad-TIME, start a new one. */
static int set_aside(const char *path, const char *why)
{
	char bad[4096];

	snprintf(bad, sizeof(bad), "%s.bad-%lld", path, (long long)time(NULL));
	if (rename(path, bad))
		return -errno;
	log_warn("syslog spool %s: %s; kept as %s, a new spool started", path, why, bad);
	return 0;
}

struct spool *spool_open(const char *path, uint64_t max_bytes, char *err, size_t errsize)
{
	struct spool *sp = calloc(1, sizeof(*sp));
	unsigned char h[HEADER];
	struct stat st;
	int rc = 0;

	if (!sp || !(sp->path = strdup(path))) {
		snprintf(err, errsize, "out of memory");
		free(sp);
		return NULL;
	}
	sp->max_bytes = max_bytes;
	for (int attempt = 0; attempt < 2; attempt++) {
		sp->fd = safe_open_write(path, O_RDWR | O_CREAT, "syslog spool");
		if (sp->fd < 0) {
			snprintf(err, errsize, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (fstat(sp->fd, &st)) {
			snprintf(err, errsize, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (!S_ISREG(st.st_mode)) {
			/* a device or a pipe keeps nothing to send later */
			snprintf(err, errsize, "%s: not a regular file", path);
			goto fail;
		}
		if (st.st_size == 0) {
			sp->read_off = HEADER;
			rc = write_header(sp);
			sp->end_off = HEADER;
			break;
		}
		if (st.st_size >= HEADER && pread(sp->fd, h, HEADER, 0) == HEADER &&
		    !memcmp(h, MAGIC, 8) && get_le64(h + 8) >= HEADER &&
		    get_le64(h + 8) <= (uint64_t)st.st_size) {
			sp->read_off = get_le64(h + 8);
			rc = recover(sp, (uint64_t)st.st_size);
			break;
		}
		close(sp->fd);
		sp->fd = -1;
		rc = attempt ? -EINVAL : set_aside(path, "not a Vigie syslog spool");
		if (rc)
			break;
	}
	if (rc) {
		snprintf(err, errsize, "%s: %s", path, strerror(-rc));
		goto fail;
	}
	if (sp->records)
		log_info("syslog spool %s: %llu events of an earlier run to send first", path,
			 (unsigned long long)sp->records);
	return sp;
fail:
	spool_close(sp);
	return NULL;
}

int spool_append(struct spool *sp, const void *data, size_t len)
{
	unsigned char l[4];
	struct iovec iov[2];
	ssize_t n;

	if (!sp || len == 0 || len > MAX_RECORD)
		return -EINVAL;
	if (sp->end_off + 4 + len - HEADER > sp->max_bytes)
		return -ENOSPC;
	for (int i = 0; i < 4; i++)
		l[i] = (unsigned char)(len >> (8 * i));
	iov[0] = (struct iovec){ l, 4 };
	iov[1] = (struct iovec){ (void *)data, len };
	n = pwritev(sp->fd, iov, 2, (off_t)sp->end_off);
	if (n != (ssize_t)(4 + len)) {
		int e = n < 0 ? errno : ENOSPC;

		/* nothing half written stays: the file ends at the last record */
		if (ftruncate(sp->fd, (off_t)sp->end_off))
			log_warn("syslog spool %s: %s", sp->path, strerror(errno));
		return -e;
	}
	sp->end_off += 4 + len;
	sp->records++;
	return 0;
}

ssize_t spool_peek(struct spool *sp, char **data)
{
	unsigned char l[4];
	uint32_t len;
	char *buf;

	*data = NULL;
	if (!sp || sp->records == 0)
		return 0;
	if (pread(sp->fd, l, 4, (off_t)sp->read_off) != 4)
		return errno ? -errno : -EIO;
	len = get_le32(l);
	if (len == 0 || len > MAX_RECORD || sp->read_off + 4 + len > sp->end_off)
		return -EIO;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	if (pread(sp->fd, buf, len, (off_t)sp->read_off + 4) != (ssize_t)len) {
		int e = errno ? errno : EIO;

		free(buf);
		return -e;
	}
	*data = buf;
	return (ssize_t)len;
}

int spool_pop(struct spool *sp)
{
	unsigned char l[4];

	if (!sp || sp->records == 0)
		return -EINVAL;
	if (pread(sp->fd, l, 4, (off_t)sp->read_off) != 4)
		return errno ? -errno : -EIO;
	sp->read_off += 4 + (uint64_t)get_le32(l);
	sp->records--;
	if (sp->records == 0) {
		/* all sent: the file back to its header */
		sp->read_off = sp->end_off = HEADER;
		if (ftruncate(sp->fd, HEADER))
			return -errno;
	}
	return write_header(sp);
}

uint64_t spool_records(const struct spool *sp)
{
	return sp ? sp->records : 0;
}

uint64_t spool_bytes(const struct spool *sp)
{
	return sp ? sp->end_off - sp->read_off : 0;
}

void spool_close(struct spool *sp)
{
	if (!sp)
		return;
	if (sp->fd >= 0)
		close(sp->fd);
	free(sp->path);
	free(sp);
}
