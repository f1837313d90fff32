/* cohort-keygen: write a new random authkey for the cluster.
 *
 * The key is written to a temporary file in the target directory with mode
 * 0400, synced, then moved into place, so a crash never leaves a short or
 * readable key behind. Without -f an existing key is never replaced: the
 * final step is link(2), which fails if the name exists, rather than a
 * check-then-rename that could race with another writer. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/crypto.h"
#include "util/strnum.h"

struct keygen_opts {
	const char *path;
	uint32_t size;
	bool force;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: cohort-keygen [-k FILE] [-s SIZE] [-f] [-l] [-h]\n"
		"  -k FILE  where to write the key (default %s)\n"
		"  -s SIZE  key size in bytes, %u to %u (default 256)\n"
		"  -f       replace an existing key file\n"
		"  -l       accepted for corosync-keygen compatibility; has no effect\n"
		"           (it once chose /dev/urandom over /dev/random; getrandom()\n"
		"           is always the kernel's fully seeded generator)\n"
		"  -h, --help  this text\n"
		"Exit status: 0 key written, 1 error (the key file exists, I/O), 2 usage.\n",
		CRYPTO_DEFAULT_KEYFILE, CRYPTO_KEY_MIN_BYTES, CRYPTO_KEY_MAX_BYTES);
}

static int parse_args(int argc, char **argv, struct keygen_opts *o)
{
	static const struct option lo[] = { { "help", no_argument, NULL, 'h' },
					    { NULL, 0, NULL, 0 } };
	int c;

	o->path = CRYPTO_DEFAULT_KEYFILE;
	o->size = 256;
	o->force = false;
	while ((c = getopt_long(argc, argv, "k:s:flh", lo, NULL)) != -1) {
		switch (c) {
		case 'k':
			o->path = optarg;
			break;
		case 's':
			if (util_parse_u32(optarg, CRYPTO_KEY_MIN_BYTES, CRYPTO_KEY_MAX_BYTES,
					   &o->size) != UTIL_NUM_OK) {
				fprintf(stderr,
					"cohort-keygen: -s %s: size must be %u to %u bytes\n",
					optarg, CRYPTO_KEY_MIN_BYTES, CRYPTO_KEY_MAX_BYTES);
				return 2;
			}
			break;
		case 'f':
			o->force = true;
			break;
		case 'l':
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return 0;
}

static int fill_random(uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(buf + got, len - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* Returns 0, or 1 with a message on stderr. */
static int install_key(const struct keygen_opts *o, const uint8_t *key)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, rc = 1;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", o->path) >= (int)sizeof(tmp) ||
	    snprintf(dir, sizeof(dir), "%s", o->path) >= (int)sizeof(dir)) {
		fprintf(stderr, "cohort-keygen: %s: path too long\n", o->path);
		return 1;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		fprintf(stderr, "cohort-keygen: cannot create a file next to %s: %s\n", o->path,
			strerror(errno));
		return 1;
	}
	if (fchmod(fd, 0400) != 0 || write_all(fd, key, o->size) != 0 || fsync(fd) != 0) {
		fprintf(stderr, "cohort-keygen: %s: %s\n", tmp, strerror(errno));
		close(fd);
		goto out;
	}
	close(fd);
	if (o->force ? rename(tmp, o->path) != 0 : link(tmp, o->path) != 0) {
		if (errno == EEXIST)
			fprintf(stderr, "cohort-keygen: %s already exists: use -f to replace it\n",
				o->path);
		else
			fprintf(stderr, "cohort-keygen: cannot write %s: %s\n", o->path,
				strerror(errno));
		goto out;
	}
	sync_dir(dirname(dir));
	rc = 0;
out:
	unlink(tmp); /* after link(2) the key has two names: drop the temporary one */
	return rc;
}

int main(int argc, char **argv)
{
	struct keygen_opts o;
	uint8_t key[CRYPTO_KEY_MAX_BYTES];
	int rc = parse_args(argc, argv, &o);

	if (rc != 0)
		return rc == 1 ? 0 : rc;
	/* Early, friendlier refusal; link(2) below still closes the race. */
	if (!o.force && access(o.path, F_OK) == 0) {
		fprintf(stderr, "cohort-keygen: %s already exists: use -f to replace it\n", o.path);
		return 1;
	}
	if (fill_random(key, o.size) != 0) {
		fprintf(stderr, "cohort-keygen: getrandom: %s\n", strerror(errno));
		return 1;
	}
	printf("Writing a %u-byte key to %s\n", o.size, o.path);
	rc = install_key(&o, key);
	explicit_bzero(key, sizeof(key));
	return rc;
}
