/* Throughput of crypto_seal + crypto_open (one packet sealed by one node and
 * opened by another, as on the wire). Not a test: run by hand, prints MB/s. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "net/crypto.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void measure(enum crypto_mode mode, size_t size, double seconds)
{
	static const uint32_t peers[] = { 1, 2 };
	struct crypto_key key = { .len = 256 };
	struct crypto_params p = {
		.mode = mode, .key = &key, .cluster_name = "bench", .peers = peers, .peer_count = 2
	};
	struct crypto_ctx *tx = NULL, *rx = NULL;
	uint8_t *payload = calloc(1, size), *pkt = malloc(size + CRYPTO_MAX_OVERHEAD_BYTES);
	char err[128];
	uint64_t n = 0;
	double start, elapsed;

	p.my_nodeid = 1;
	crypto_create(&p, &tx, err, sizeof(err));
	p.my_nodeid = 2;
	crypto_create(&p, &rx, err, sizeof(err));
	if (!tx || !rx || !payload || !pkt)
		exit(1);
	start = now_s();
	do {
		for (int i = 0; i < 64; i++, n++) {
			struct crypto_rx r;
			size_t len;

			if (crypto_seal(tx, 1, payload, size, pkt, size + CRYPTO_MAX_OVERHEAD_BYTES,
					&len) != CRYPTO_OK ||
			    crypto_open(rx, pkt, len, &r) != CRYPTO_OK)
				exit(2);
		}
		elapsed = now_s() - start;
	} while (elapsed < seconds);
	printf("%-10s %6zu B  %9.0f packets/s  %8.1f MB/s (seal+open)\n", crypto_mode_name(mode),
	       size, (double)n / elapsed, (double)n * (double)size / elapsed / 1e6);
	crypto_destroy(tx);
	crypto_destroy(rx);
	free(payload);
	free(pkt);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.0;
	const size_t sizes[] = { 1024, 65536 };

	for (size_t i = 0; i < 2; i++) {
		measure(CRYPTO_MODE_NONE, sizes[i], seconds);
		measure(CRYPTO_MODE_AUTH, sizes[i], seconds);
		measure(CRYPTO_MODE_AEAD, sizes[i], seconds);
	}
	return 0;
}
