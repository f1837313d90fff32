/* cohort-keygen as a user runs it, in a temporary directory. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/crypto.h"

static int checks, failures;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		checks++;                                                                        \
		if (!(cond)) {                                                                   \
			failures++;                                                              \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                                \
	} while (0)

/* Run the tool with up to 5 arguments, output discarded; returns exit code. */
static int run(const char *tool, const char *a1, const char *a2, const char *a3, const char *a4,
	       const char *a5)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
			_exit(126);
		execl(tool, tool, a1, a2, a3, a4, a5, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/cohort-keygen-XXXXXX", key[256], missing[300], err[512];
	const char *tool = argc > 1 ? argv[1] : "cohort-keygen";
	struct crypto_key k1, k2;
	struct stat st;

	if (!mkdtemp(dir))
		return 1;
	snprintf(key, sizeof(key), "%s/authkey", dir);
	snprintf(missing, sizeof(missing), "%s/no/such/dir/authkey", dir);

	CHECK(run(tool, "-k", key, NULL, NULL, NULL) == 0);
	CHECK(stat(key, &st) == 0 && (st.st_mode & 07777) == 0400 && st.st_size == 256);
	CHECK(crypto_key_load(key, &k1, err, sizeof(err)) == 0);
	/* never replaced without -f */
	CHECK(run(tool, "-k", key, NULL, NULL, NULL) == 1);
	CHECK(crypto_key_load(key, &k2, err, sizeof(err)) == 0 &&
	      memcmp(k1.bytes, k2.bytes, k1.len) == 0);
	/* -f replaces it with a fresh key; -l is accepted */
	CHECK(run(tool, "-f", "-l", "-k", key, NULL) == 0);
	CHECK(crypto_key_load(key, &k2, err, sizeof(err)) == 0 &&
	      memcmp(k1.bytes, k2.bytes, k1.len) != 0);
	CHECK(run(tool, "-f", "-k", key, "-s", "128") == 0);
	CHECK(stat(key, &st) == 0 && st.st_size == 128 && (st.st_mode & 07777) == 0400);
	CHECK(run(tool, "-f", "-k", key, "-s", "4096") == 0);
	CHECK(stat(key, &st) == 0 && st.st_size == 4096);
	CHECK(run(tool, "-f", "-k", key, "-s", "127") == 2);
	CHECK(run(tool, "-f", "-k", key, "-s", "4097") == 2);
	CHECK(run(tool, "-f", "-k", key, "-s", "lots") == 2);
	CHECK(run(tool, "-x", NULL, NULL, NULL, NULL) == 2);
	CHECK(run(tool, "-k", missing, NULL, NULL, NULL) == 1);
	CHECK(run(tool, "-h", NULL, NULL, NULL, NULL) == 0);
	CHECK(count_entries(dir) == 1); /* no temporary file left behind */
	unlink(key);
	rmdir(dir);
	printf("test_keygen: %d passed, %d failed\n", checks - failures, failures);
	return failures ? 1 : 0;
}
