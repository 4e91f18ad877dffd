/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls_bulk: writes MIB mebibytes of application data over one TLS
 * connection (a socket BIO, 16 KiB SSL_write()s, as an MTA's data phase),
 * then prints "CPU_SECONDS WALL_SECONDS" of the whole run (this process:
 * user + system). For the bench: what the shim adds to a data phase.
 *
 * usage: tls_bulk ADDR PORT CAFILE MIB
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double seconds(struct timeval t)
{
    return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: tls_bulk ADDR PORT CAFILE MIB\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN); /* a server gone is a failed write, said */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1 || fd < 0 || !ctx ||
        !SSL_CTX_load_verify_locations(ctx, argv[3], NULL) ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        perror("tls_bulk: connect");
        return 1;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) {
        fprintf(stderr, "tls_bulk: handshake failed\n");
        return 1;
    }
    static char chunk[16384];
    memset(chunk, 'x', sizeof(chunk));
    long chunks = atol(argv[4]) * 64;
    for (long i = 0; i < chunks; i++)
        if (SSL_write(ssl, chunk, sizeof(chunk)) != (int)sizeof(chunk)) {
            fprintf(stderr, "tls_bulk: write failed after %ld chunks\n", i);
            return 1;
        }
    SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
    SSL_CTX_free(ctx);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%.3f %.3f\n", seconds(ru.ru_utime) + seconds(ru.ru_stime),
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}
