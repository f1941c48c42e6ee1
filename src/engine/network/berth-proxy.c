/*
 * berth-proxy: one published TCP port, for berthd.
 *   berth-proxy HOST_IP HOST_PORT TARGET_IP TARGET_PORT
 * Binds HOST_IP:HOST_PORT (port 0: a free one) and prints "ok PORT" on
 * stdout, or "error ERRNO_NAME message" and exits 1. Then forwards every
 * connection to TARGET_IP:TARGET_PORT: two threads per connection, one per
 * direction, moving bytes with splice(2) through a pipe (no copies through
 * user space); EOF is passed on as a half-close. It dies with berthd
 * (PR_SET_PDEATHSIG) and on SIGTERM.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct conn {
  int fds[2];
  int refs;
  pthread_mutex_t lock;
};

struct pump {
  struct conn *c;
  int from, to;
};

static struct sockaddr_in target;

static void release(struct conn *c) {
  pthread_mutex_lock(&c->lock);
  int left = --c->refs;
  pthread_mutex_unlock(&c->lock);
  if (left == 0) {
    close(c->fds[0]);
    close(c->fds[1]);
    pthread_mutex_destroy(&c->lock);
    free(c);
  }
}

static void *pump(void *arg) {
  struct pump p = *(struct pump *)arg;
  free(arg);
  int pipefd[2];
  int failed = 0;
  if (pipe2(pipefd, O_CLOEXEC) < 0) {
    failed = 1;
  } else {
    fcntl(pipefd[1], F_SETPIPE_SZ, 1 << 20);
    for (;;) {
      ssize_t n = splice(p.from, NULL, pipefd[1], NULL, 1 << 20, SPLICE_F_MOVE | SPLICE_F_MORE);
      if (n == 0) break;
      if (n < 0) {
        if (errno == EINTR) continue;
        failed = 1;
        break;
      }
      while (n > 0) {
        ssize_t m = splice(pipefd[0], NULL, p.to, NULL, (size_t)n, SPLICE_F_MOVE | SPLICE_F_MORE);
        if (m < 0 && errno == EINTR) continue;
        if (m <= 0) {
          failed = 1;
          break;
        }
        n -= m;
      }
      if (failed) break;
    }
    close(pipefd[0]);
    close(pipefd[1]);
  }
  if (failed) {
    /* A reset on either side ends both directions. */
    shutdown(p.from, SHUT_RDWR);
    shutdown(p.to, SHUT_RDWR);
  } else {
    shutdown(p.to, SHUT_WR);
  }
  release(p.c);
  return NULL;
}

static int start_pump(struct conn *c, int from, int to) {
  struct pump *p = malloc(sizeof *p);
  if (!p) return -1;
  p->c = c;
  p->from = from;
  p->to = to;
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  int rc = pthread_create(&t, &attr, pump, p);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    free(p);
    return -1;
  }
  return 0;
}

static void serve(int client) {
  int one = 1;
  setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int up = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (up < 0 || connect(up, (struct sockaddr *)&target, sizeof target) < 0) {
    if (up >= 0) close(up);
    close(client);
    return;
  }
  setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct conn *c = calloc(1, sizeof *c);
  if (!c) {
    close(up);
    close(client);
    return;
  }
  c->fds[0] = client;
  c->fds[1] = up;
  c->refs = 2;
  pthread_mutex_init(&c->lock, NULL);
  if (start_pump(c, client, up) < 0) {
    c->refs = 1;
    shutdown(client, SHUT_RDWR);
    release(c);
    return;
  }
  if (start_pump(c, up, client) < 0) {
    shutdown(client, SHUT_RDWR);
    shutdown(up, SHUT_RDWR);
    release(c);
  }
}

static int fail(const char *what) {
  int e = errno;
  const char *name = e == EADDRINUSE ? "EADDRINUSE" : e == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : e == EACCES ? "EACCES" : "EOTHER";
  printf("error %s %s: %s\n", name, what, strerror(e));
  fflush(stdout);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: berth-proxy HOST_IP HOST_PORT TARGET_IP TARGET_PORT\n");
    return 2;
  }
  pid_t parent = getppid();
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) return 1;
  signal(SIGPIPE, SIG_IGN);

  struct sockaddr_in bind_addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
  target.sin_family = AF_INET;
  target.sin_port = htons((uint16_t)atoi(argv[4]));
  if (inet_pton(AF_INET, argv[1], &bind_addr.sin_addr) != 1 || inet_pton(AF_INET, argv[3], &target.sin_addr) != 1) {
    errno = EINVAL;
    return fail("address");
  }
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return fail("socket");
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(s, (struct sockaddr *)&bind_addr, sizeof bind_addr) < 0) return fail("bind");
  if (listen(s, 512) < 0) return fail("listen");
  struct sockaddr_in bound;
  socklen_t len = sizeof bound;
  if (getsockname(s, (struct sockaddr *)&bound, &len) < 0) return fail("getsockname");
  printf("ok %d\n", ntohs(bound.sin_port));
  fflush(stdout);
  for (;;) {
    int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE) {
        if (errno == EMFILE || errno == ENFILE) usleep(100000);
        continue;
      }
      return fail("accept");
    }
    serve(c);
  }
}
