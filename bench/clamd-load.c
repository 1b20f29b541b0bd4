/// The INSTREAM load generator of the clamd cell, in C: `concurrency` threads in a loop, each
/// sending one clean body per connection over a unix socket (`zINSTREAM\0`, 64 KiB chunks, the
/// zero-length terminator, shutdown(SHUT_WR), as clamdscan does) and reading the reply to EOF,
/// for `seconds`. A reply other than `stream: OK\0` is an error. Bodies differ per request (a
/// counter stamped into the first bytes) so nothing can answer from a cache.
///
/// Why C and not the Node generator it replaces: the client shares the 2 CPUs with the server it
/// measures, and the real clients of clamd (clamdscan, clamav-milter, rspamd, Exim) are C doing
/// exactly these five system calls per object. The Node client cost ~0.13 ms of CPU per 4 KiB
/// request (a net.Socket per connection), as much as half of what the servers cost, and that CPU
/// came out of the servers' share. Each thread frames its request once (the server reads the whole
/// stream before answering, so the buffer is free again at EOF). One JSON line on stdout: requests,
/// errors, elapsed seconds, p50/p99 latency in ms, this process's CPU ms, first error samples.
///
/// Built at bench time with Debian's gcc: gcc -O2 -pthread -o clamd-load clamd-load.c
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_BYTES (64 * 1024)
#define MAX_LATENCIES (1 << 22)
static const char expected[] = "stream: OK"; /* followed by the NUL terminator */

static struct sockaddr_un address;
static size_t body_size;
static double deadline;
static uint32_t counter;
static double *latencies;
static size_t latency_count;
static long errors;
static char samples[3][128];
static int sample_count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/// zINSTREAM\0, the body in 64 KiB chunks each behind its big-endian length, the zero terminator.
static unsigned char *frame(size_t size, size_t *length) {
  size_t chunks = (size + CHUNK_BYTES - 1) / CHUNK_BYTES;
  *length = 10 + chunks * 4 + size + 4;
  unsigned char *out = malloc(*length);
  if (out == NULL) return NULL;
  memcpy(out, "zINSTREAM\0", 10);
  size_t at = 10;
  for (size_t done = 0; done < size; done += CHUNK_BYTES) {
    uint32_t piece = size - done < CHUNK_BYTES ? (uint32_t)(size - done) : CHUNK_BYTES;
    out[at] = piece >> 24; out[at + 1] = piece >> 16; out[at + 2] = piece >> 8; out[at + 3] = piece;
    at += 4;
    for (uint32_t i = 0; i < piece; i++) out[at + i] = (unsigned char)rand();
    at += piece;
  }
  memset(out + at, 0, 4);
  return out;
}

static void failed(const char *what) {
  pthread_mutex_lock(&lock);
  errors++;
  if (sample_count < 3) snprintf(samples[sample_count++], sizeof samples[0], "%s", what);
  pthread_mutex_unlock(&lock);
}

/// One object on one connection; the reply read to EOF into `reply` (NUL-terminated by the protocol).
static int once(const unsigned char *request, size_t length, char *reply, size_t capacity, size_t *got) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) { close(fd); return -1; }
  for (size_t sent = 0; sent < length;) {
    ssize_t n = send(fd, request + sent, length - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break; /* the server may answer (an error line) before taking everything: read it */
    sent += (size_t)n;
  }
  shutdown(fd, SHUT_WR);
  *got = 0;
  for (;;) {
    ssize_t n = read(fd, reply + *got, capacity - 1 - *got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    *got += (size_t)n;
    if (*got == capacity - 1) break;
  }
  reply[*got] = 0;
  close(fd);
  return 0;
}

struct lane_request { unsigned char *bytes; size_t length; };

static void *lane(void *arg) {
  unsigned char *request = ((struct lane_request *)arg)->bytes;
  size_t length = ((struct lane_request *)arg)->length;
  double local[4096];
  size_t kept = 0;
  char reply[256];
  size_t got;
  while (now_ms() < deadline) {
    uint32_t n = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
    request[14] = n >> 24; request[15] = n >> 16; request[16] = n >> 8; request[17] = n;
    double started = now_ms();
    if (once(request, length, reply, sizeof reply, &got) < 0) { failed(strerror(errno)); continue; }
    if (got != sizeof expected || memcmp(reply, expected, sizeof expected) != 0) { failed(reply); continue; }
    local[kept++] = now_ms() - started;
    if (kept == sizeof local / sizeof local[0]) {
      pthread_mutex_lock(&lock);
      for (size_t i = 0; i < kept && latency_count < MAX_LATENCIES; i++) latencies[latency_count++] = local[i];
      pthread_mutex_unlock(&lock);
      kept = 0;
    }
  }
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < kept && latency_count < MAX_LATENCIES; i++) latencies[latency_count++] = local[i];
  pthread_mutex_unlock(&lock);
  return NULL;
}

/// User plus system CPU of this process (all threads) in ms.
static double cpu_ms(void) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec * 1e3 + usage.ru_utime.tv_usec / 1e3 + usage.ru_stime.tv_sec * 1e3 + usage.ru_stime.tv_usec / 1e3;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20 || c > 0x7e) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s <unix socket> <body bytes> <concurrency> <seconds>\n", argv[0]);
    return 2;
  }
  address.sun_family = AF_UNIX;
  if (strlen(argv[1]) >= sizeof address.sun_path) { fprintf(stderr, "socket path too long\n"); return 2; }
  strcpy(address.sun_path, argv[1]);
  body_size = strtoul(argv[2], NULL, 10);
  int concurrency = atoi(argv[3]);
  double seconds = atof(argv[4]);
  if (body_size < 4 || concurrency < 1 || concurrency > 256 || seconds <= 0) { fprintf(stderr, "bad arguments\n"); return 2; }
  latencies = malloc(sizeof(double) * MAX_LATENCIES);
  if (latencies == NULL) { fprintf(stderr, "out of memory\n"); return 1; }
  srand((unsigned)time(NULL) ^ (unsigned)getpid());
  pthread_t threads[256];
  struct lane_request requests[256];
  /* Framed before the clock and the CPU count start: only the load itself is measured. */
  for (int i = 0; i < concurrency; i++) {
    requests[i].bytes = frame(body_size, &requests[i].length);
    if (requests[i].bytes == NULL) { fprintf(stderr, "out of memory\n"); return 1; }
  }
  double cpu_before = cpu_ms();
  double started = now_ms();
  deadline = started + seconds * 1e3;
  for (int i = 0; i < concurrency; i++) pthread_create(&threads[i], NULL, lane, &requests[i]);
  for (int i = 0; i < concurrency; i++) pthread_join(threads[i], NULL);
  double elapsed = (now_ms() - started) / 1e3;
  double cpu = cpu_ms() - cpu_before;
  qsort(latencies, latency_count, sizeof(double), by_value);
  double p50 = latency_count ? latencies[(size_t)(latency_count * 0.5)] : 0;
  double p99 = latency_count ? latencies[(size_t)(latency_count * 0.99) < latency_count ? (size_t)(latency_count * 0.99) : latency_count - 1] : 0;
  printf("{\"requests\":%zu,\"errors\":%ld,\"elapsed\":%.4f,\"p50\":%.3f,\"p99\":%.3f,\"cpuMs\":%.2f,\"errorSamples\":[", latency_count, errors, elapsed, p50, p99, cpu);
  for (int i = 0; i < sample_count; i++) { if (i) putchar(','); json_string(samples[i]); }
  printf("]}\n");
  return 0;
}
