/* The standalone main of fuzz_totem, fuzz_config and fuzz_crypto; see
 * fuzz_driver.h. Mutations are generic byte edits: the targets themselves
 * turn bytes into structure, so nothing format-specific is needed here. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_driver.h"

#define FZD_MAX_SEEDS 64
#define FZD_CAP 65536u

static struct {
	char name[64];
	uint8_t *bytes;
	size_t len;
} fzd_seeds[FZD_MAX_SEEDS];
static unsigned fzd_nseeds;
static uint64_t fzd_rng = 0xD1B54A32D192ED03ull; /* fixed: runs must repeat */

void fuzz_seed_add(const char *name, const void *bytes, size_t len)
{
	FZ_CHECK(fzd_nseeds < FZD_MAX_SEEDS && len <= FZD_CAP);
	snprintf(fzd_seeds[fzd_nseeds].name, sizeof(fzd_seeds[0].name), "%s", name);
	fzd_seeds[fzd_nseeds].bytes = malloc(len ? len : 1);
	FZ_CHECK(fzd_seeds[fzd_nseeds].bytes != NULL);
	if (len)
		memcpy(fzd_seeds[fzd_nseeds].bytes, bytes, len);
	fzd_seeds[fzd_nseeds++].len = len;
}

static uint64_t fzd_rand(void)
{
	fzd_rng ^= fzd_rng << 13;
	fzd_rng ^= fzd_rng >> 7;
	fzd_rng ^= fzd_rng << 17;
	return fzd_rng;
}

static size_t fzd_below(size_t n)
{
	return n ? (size_t)(fzd_rand() % n) : 0;
}

/* The input being run, written to ./<target>.crash when a check aborts, so
 * that a failure of the mutation loop can be replayed and kept. */
static const uint8_t *fzd_cur;
static size_t fzd_cur_len;

static void fzd_on_abort(int sig)
{
	char path[128];
	size_t n = strlen(fuzz_target_name);
	int fd;

	memcpy(path, fuzz_target_name, n);
	memcpy(path + n, ".crash", 7);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, fzd_cur, fzd_cur_len) < 0)
			(void)0; /* nothing more can be done inside a signal handler */
		close(fd);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Feeds an exactly sized heap copy, so ASan sees a read one byte too far. */
static void fzd_run(const uint8_t *b, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	FZ_CHECK(copy != NULL);
	if (len)
		memcpy(copy, b, len);
	fzd_cur = copy;
	fzd_cur_len = len;
	LLVMFuzzerTestOneInput(copy, len);
	fzd_cur = NULL;
	fzd_cur_len = 0;
	free(copy);
}

static size_t fzd_mutate(uint8_t *b, size_t len)
{
	static const uint8_t interesting[] = { 0, 1, 0x7f, 0x80, 0xff, '\n', '{', '}', ':', ' ' };
	size_t pos = fzd_below(len + 1), k = 1 + fzd_below(8);

	switch (fzd_below(7)) {
	case 0:
		if (len)
			b[fzd_below(len)] ^= (uint8_t)(1u << fzd_below(8));
		return len;
	case 1:
		if (len)
			b[fzd_below(len)] = fzd_below(2) ?
						    (uint8_t)fzd_rand() :
						    interesting[fzd_below(sizeof(interesting))];
		return len;
	case 2:
		return fzd_below(len + 1);
	case 3: /* insertion */
		if (len + k > FZD_CAP)
			return len;
		memmove(b + pos + k, b + pos, len - pos);
		for (size_t i = 0; i < k; i++)
			b[pos + i] = (uint8_t)fzd_rand();
		return len + k;
	case 4: /* deletion */
		k = k < len - pos ? k : len - pos;
		memmove(b + pos, b + pos + k, len - pos - k);
		return len - k;
	case 5: { /* copy a slice of this input over another place */
		size_t from = fzd_below(len + 1), n = fzd_below(len - from + 1);

		if (pos + n > FZD_CAP)
			return len;
		memmove(b + pos, b + from, n);
		return pos + n > len ? pos + n : len;
	}
	default: { /* splice: the tail of another seed */
		unsigned s = (unsigned)fzd_below(fzd_nseeds);
		size_t from = fzd_below(fzd_seeds[s].len + 1), n = fzd_seeds[s].len - from;

		if (pos + n > FZD_CAP)
			return len;
		memcpy(b + pos, fzd_seeds[s].bytes + from, n);
		return pos + n;
	}
	}
}

static int fzd_write_seeds(const char *dir)
{
	char path[4096];

	for (unsigned i = 0; i < fzd_nseeds; i++) {
		FILE *f;

		if (snprintf(path, sizeof(path), "%s/seed-%s", dir, fzd_seeds[i].name) >=
		    (int)sizeof(path))
			return 1;
		f = fopen(path, "wb");

		if (!f || fwrite(fzd_seeds[i].bytes, 1, fzd_seeds[i].len, f) != fzd_seeds[i].len ||
		    fclose(f) != 0) {
			perror(path);
			return 1;
		}
	}
	printf("%s: wrote %u seeds to %s\n", fuzz_target_name, fzd_nseeds, dir);
	return 0;
}

static int fzd_replay_file(const char *path, unsigned *count)
{
	static uint8_t b[FZD_CAP];
	FILE *f = fopen(path, "rb");
	size_t len;

	if (!f) {
		perror(path);
		return 1;
	}
	len = fread(b, 1, sizeof(b), f);
	fclose(f);
	fzd_run(b, len);
	(*count)++;
	return 0;
}

/* A directory is replayed file by file, in readdir order (each input is
 * independent, so the order does not matter). */
static int fzd_replay(const char *path, unsigned *count)
{
	struct stat st;
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return fzd_replay_file(path, count);
	d = opendir(path);
	if (!d) {
		perror(path);
		return 1;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		char sub[4096];

		if (e->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) >= (int)sizeof(sub))
			rc = 1;
		else
			rc = fzd_replay_file(sub, count);
	}
	closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	static uint8_t b[FZD_CAP];
	unsigned long iters = fuzz_target_iterations;
	unsigned count = 0;

	fuzz_target_seeds();
	signal(SIGABRT, fzd_on_abort);
	if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0)
		return fzd_write_seeds(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--iterations") == 0) {
		iters = strtoul(argv[2], NULL, 10);
	} else if (argc >= 2) {
		for (int i = 1; i < argc; i++)
			if (fzd_replay(argv[i], &count) != 0)
				return 1;
		printf("%s: replayed %u inputs\n", fuzz_target_name, count);
		return 0;
	}
	for (unsigned i = 0; i < fzd_nseeds; i++)
		fzd_run(fzd_seeds[i].bytes, fzd_seeds[i].len);
	for (unsigned long it = 0; it < iters; it++) {
		unsigned s = (unsigned)fzd_below(fzd_nseeds);
		size_t len = fzd_seeds[s].len;

		memcpy(b, fzd_seeds[s].bytes, len);
		for (size_t r = 1 + fzd_below(4); r > 0; r--)
			len = fzd_mutate(b, len);
		fzd_run(b, len);
	}
	printf("%s: %u seeds, %lu mutated inputs\n", fuzz_target_name, fzd_nseeds, iters);
	for (unsigned i = 0; i < fzd_nseeds; i++)
		free(fzd_seeds[i].bytes);
	return 0;
}
