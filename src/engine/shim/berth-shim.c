/*
 * berth-shim: the per-container (or per-exec) supervisor. berthd spawns it;
 * it detaches (double fork, setsid), becomes a child subreaper, starts the
 * process through the OCI runtime, holds its stdio, writes its output to a
 * JSON-lines log, serves attach clients, and records the exit status in an
 * exit file, so berthd can be killed and restarted at any time.
 *
 * Usage:
 *   berth-shim --id ID --bundle DIR --pid-file F --exit-file F --attach-socket S
 *              [--log F] [--console-socket S] [--tty] [--stdin] [--exec PROCESS_JSON]
 *              [--keep] [--umount-unified] [--rows N --cols N] [--stdio-fd N] -- RUNTIME [ARGS...]
 *
 * The runtime argv after "--" is the runtime and its global options; the shim
 * appends "run -d ..." (container mode) or "exec -d --process ..." (--exec).
 * fd 3, if open, is the status pipe: the shim writes "ok PID\n" once the
 * process runs, or "error\n" then the runtime's stderr, and closes it.
 * --stdio-fd N (no tty): the process's stdin and stdout are the shim's fd N
 * (a socket berthd passed) instead of pipes the shim holds; the shim only
 * hands it over, keeps no copy, and serves stderr and the exit as usual.
 *
 * Attach protocol (unix stream socket, --attach-socket): frames of
 * 1 byte type, 4 bytes big-endian payload length (at most 65536), payload.
 *   client -> shim: 1 STDIN data | 2 CLOSE_STDIN (tty: sends ^D) |
 *                   3 RESIZE (rows u16 BE, cols u16 BE) | 4 SIGNAL (1 byte: number)
 *   shim -> client: 1 STDOUT data | 2 STDERR data | 3 EXIT (the exit file's JSON)
 * In --exec mode the output made before the first client connects is kept
 * (up to 1 MiB) and replayed to it, and after the exit the shim waits up to
 * 60 s for a first client so the exit frame is never lost.
 *
 * Exit file: {"exitCode":N,"signal":N|null,"pid":N,"finishedAt":"RFC3339"},
 * written atomically (temporary file, fsync, rename). Then, unless --keep or
 * --exec, "RUNTIME delete ID".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 64
#define MAX_FRAME 65536
#define REPLAY_MAX (1024 * 1024)
#define LINE_MAX_BYTES 16384
#define DRAIN_MS 2000
#define LINGER_MS 60000

enum { F_STDIN = 1, F_CLOSE_STDIN = 2, F_RESIZE = 3, F_SIGNAL = 4 };
enum { F_STDOUT = 1, F_STDERR = 2, F_EXIT = 3 };

struct opts {
  const char *id, *bundle, *pid_file, *exit_file, *attach_socket, *log, *console_socket, *exec_process;
  int tty, open_stdin, keep, umount_unified, rows, cols, stdio_fd;
  char **runtime;
  int runtime_argc;
};

struct client {
  int fd;
  size_t len;
  unsigned char buf[MAX_FRAME + 5];
};

struct stream {
  int fd; /* read end, -1 once closed */
  int type; /* F_STDOUT or F_STDERR */
  const char *name;
  size_t len;
  char line[LINE_MAX_BYTES];
};

static struct opts o;
static struct client *clients[MAX_CLIENTS];
static int log_fd = -1, stdin_fd = -1, master_fd = -1, ever_attached = 0;
static unsigned char *replay;
static size_t replay_len;

static int status_fd = -1;

/* Fails before the process runs: the reason goes to stderr and to the status pipe. */
static void die(const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "berth-shim: %s\n", msg);
  if (status_fd >= 0 && write(status_fd, "error\n", 6) == 6 && write(status_fd, msg, strlen(msg)) < 0) status_fd = -1;
  exit(2);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* RFC 3339 UTC time with nanoseconds. */
static void rfc3339(char *out, size_t n) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + k, n - k, ".%09ldZ", ts.tv_nsec);
}

/* Writes all of buf to fd, waiting at most timeout_ms for it to accept more. */
static int write_all(int fd, const void *buf, size_t len, int timeout_ms) {
  const char *p = buf;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w > 0) {
      p += w;
      len -= (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      struct pollfd pfd = {.fd = fd, .events = POLLOUT};
      if (poll(&pfd, 1, timeout_ms) <= 0) return -1;
      continue;
    }
    return -1;
  }
  return 0;
}

/* Length of a valid UTF-8 sequence at s (at most n bytes), 0 if invalid, -1 if truncated. */
static int utf8_len(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  int need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) need = 1;
  else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else return 0;
  for (int i = 1; i <= need; i++) {
    if ((size_t)i >= n) return -1;
    unsigned char b = s[i];
    if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return 0;
  }
  return need + 1;
}

/* Appends one log entry {"log":...,"stream":...,"time":...} as one write. */
static void log_entry(const char *stream, const char *data, size_t len) {
  if (log_fd < 0) return;
  size_t cap = len * 6 + 128;
  char *out = malloc(cap), t[64];
  if (!out) return;
  size_t k = 0;
  k += (size_t)sprintf(out, "{\"log\":\"");
  const unsigned char *s = (const unsigned char *)data;
  for (size_t i = 0; i < len;) {
    unsigned char c = s[i];
    int l = utf8_len(s + i, len - i);
    if (l <= 0) { /* invalid or truncated: U+FFFD, as Go's encoder does */
      memcpy(out + k, "\xEF\xBF\xBD", 3);
      k += 3;
      i++;
      continue;
    }
    if (l > 1) {
      memcpy(out + k, s + i, (size_t)l);
      k += (size_t)l;
      i += (size_t)l;
      continue;
    }
    i++;
    switch (c) {
    case '"': out[k++] = '\\'; out[k++] = '"'; break;
    case '\\': out[k++] = '\\'; out[k++] = '\\'; break;
    case '\n': out[k++] = '\\'; out[k++] = 'n'; break;
    case '\r': out[k++] = '\\'; out[k++] = 'r'; break;
    case '\t': out[k++] = '\\'; out[k++] = 't'; break;
    default:
      if (c < 0x20) k += (size_t)sprintf(out + k, "\\u%04x", c);
      else out[k++] = (char)c;
    }
  }
  rfc3339(t, sizeof t);
  k += (size_t)snprintf(out + k, cap - k, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream, t);
  (void)write_all(log_fd, out, k, 1000);
  free(out);
}

/* Logs the complete lines in the stream's buffer; with flush, the rest too. */
static void stream_log(struct stream *st, int flush) {
  size_t start = 0;
  for (size_t i = 0; i < st->len; i++) {
    if (st->line[i] == '\n') {
      log_entry(st->name, st->line + start, i + 1 - start);
      start = i + 1;
    }
  }
  size_t rest = st->len - start;
  if (rest > 0 && (flush || rest == sizeof st->line)) {
    size_t cut = rest;
    if (!flush) { /* do not split a UTF-8 sequence */
      for (size_t back = 1; back <= 3 && back <= rest; back++) {
        unsigned char c = (unsigned char)st->line[start + rest - back];
        if (c >= 0xC0) {
          if (utf8_len((unsigned char *)st->line + start + rest - back, back) < 0) cut = rest - back;
          break;
        }
        if (c < 0x80) break;
      }
    }
    log_entry(st->name, st->line + start, cut);
    start += cut;
  }
  memmove(st->line, st->line + start, st->len - start);
  st->len -= start;
}

static void close_client(int i) {
  close(clients[i]->fd);
  free(clients[i]);
  clients[i] = NULL;
}

static int send_frame(int fd, int type, const void *data, size_t len) {
  unsigned char h[5] = {(unsigned char)type, (unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8), (unsigned char)len};
  if (write_all(fd, h, 5, 2000) < 0) return -1;
  return len ? write_all(fd, data, len, 2000) : 0;
}

static void broadcast(int type, const void *data, size_t len) {
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i] && send_frame(clients[i]->fd, type, data, len) < 0) close_client(i);
}

static void output(struct stream *st, const char *data, size_t len) {
  if (o.exec_process && !ever_attached) {
    unsigned char *grown = replay_len + len + 5 <= REPLAY_MAX ? realloc(replay, replay_len + len + 5) : NULL;
    if (grown) {
      replay = grown;
      unsigned char h[5] = {(unsigned char)st->type, (unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8), (unsigned char)len};
      memcpy(replay + replay_len, h, 5);
      memcpy(replay + replay_len + 5, data, len);
      replay_len += len + 5;
    }
  }
  broadcast(st->type, data, len);
  if (log_fd < 0) return; /* an exec keeps no log: do not parse its output into lines */
  while (len > 0) {
    size_t n = sizeof st->line - st->len < len ? sizeof st->line - st->len : len;
    memcpy(st->line + st->len, data, n);
    st->len += n;
    data += n;
    len -= n;
    stream_log(st, 0);
  }
}

static void handle_frame(int type, const unsigned char *p, size_t len, pid_t pid) {
  int in = o.tty ? master_fd : stdin_fd;
  if (type == F_STDIN && in >= 0 && len > 0) {
    (void)write_all(in, p, len, 5000);
  } else if (type == F_CLOSE_STDIN) {
    if (o.tty && master_fd >= 0) (void)write_all(master_fd, "\x04", 1, 1000);
    else if (stdin_fd >= 0) {
      close(stdin_fd);
      stdin_fd = -1;
    }
  } else if (type == F_RESIZE && len == 4 && master_fd >= 0) {
    struct winsize ws = {.ws_row = (unsigned short)(p[0] << 8 | p[1]), .ws_col = (unsigned short)(p[2] << 8 | p[3])};
    (void)ioctl(master_fd, TIOCSWINSZ, &ws);
  } else if (type == F_SIGNAL && len == 1 && pid > 0) {
    (void)kill(pid, p[0]);
  }
}

/* Reads from a client; returns -1 when it should be dropped. */
static int client_read(struct client *c, pid_t pid) {
  ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
  if (r <= 0) return -1;
  c->len += (size_t)r;
  size_t off = 0;
  while (c->len - off >= 5) {
    const unsigned char *h = c->buf + off;
    size_t len = (size_t)h[1] << 24 | (size_t)h[2] << 16 | (size_t)h[3] << 8 | h[4];
    if (len > MAX_FRAME) return -1;
    if (c->len - off < 5 + len) break;
    handle_frame(h[0], h + 5, len, pid);
    off += 5 + len;
  }
  memmove(c->buf, c->buf + off, c->len - off);
  c->len -= off;
  return 0;
}

static int listen_unix(const char *path) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof a.sun_path) die("socket path too long: %s", path);
  strcpy(a.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  unlink(path);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 16) < 0) die("cannot listen on %s: %s", path, strerror(errno));
  chmod(path, 0600);
  return fd;
}

/* Receives the pty master that the runtime sends over the console socket. */
static int recv_master(int lfd) {
  struct pollfd pfd = {.fd = lfd, .events = POLLIN};
  if (poll(&pfd, 1, 10000) <= 0) return -1;
  int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) return -1;
  char data[512], ctl[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
  int fd = -1;
  if (recvmsg(c, &m, MSG_CMSG_CLOEXEC) > 0) {
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) memcpy(&fd, CMSG_DATA(h), sizeof fd);
  }
  close(c);
  return fd;
}

static void write_file_atomic(const char *path, const char *text) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  int ok = write_all(fd, text, strlen(text), 1000) == 0 && fsync(fd) == 0;
  close(fd);
  if (ok) rename(tmp, path);
  else unlink(tmp);
}

/* Runs the runtime with extra arguments; stdio as given (-1: /dev/null). */
static pid_t spawn_runtime(const char *const *extra, int in, int out, int err) {
  char **argv = calloc((size_t)o.runtime_argc + 16, sizeof *argv);
  if (!argv) return -1;
  int n = 0;
  for (int i = 0; i < o.runtime_argc; i++) argv[n++] = o.runtime[i];
  for (int i = 0; extra[i]; i++) argv[n++] = (char *)extra[i];
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(in >= 0 ? in : null, 0);
    dup2(out >= 0 ? out : null, 1);
    dup2(err >= 0 ? err : null, 2);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    signal(SIGPIPE, SIG_DFL);
    if (o.umount_unified) { /* crun refuses hybrid cgroups: hide cgroup2 in a private mount namespace */
      if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) _exit(126);
      (void)umount2("/sys/fs/cgroup/unified", MNT_DETACH);
    }
    execvp(argv[0], argv);
    dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  free(argv);
  return pid;
}

static int wait_for(pid_t pid) {
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void parse_args(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char **val = NULL;
    if (!strcmp(a, "--")) {
      o.runtime = argv + i + 1;
      o.runtime_argc = argc - i - 1;
      break;
    }
    if (!strcmp(a, "--tty")) o.tty = 1;
    else if (!strcmp(a, "--stdin")) o.open_stdin = 1;
    else if (!strcmp(a, "--keep")) o.keep = 1;
    else if (!strcmp(a, "--umount-unified")) o.umount_unified = 1;
    else if (!strcmp(a, "--rows") && i + 1 < argc) o.rows = atoi(argv[++i]);
    else if (!strcmp(a, "--cols") && i + 1 < argc) o.cols = atoi(argv[++i]);
    else if (!strcmp(a, "--stdio-fd") && i + 1 < argc) o.stdio_fd = atoi(argv[++i]);
    else if (!strcmp(a, "--id")) val = &o.id;
    else if (!strcmp(a, "--bundle")) val = &o.bundle;
    else if (!strcmp(a, "--pid-file")) val = &o.pid_file;
    else if (!strcmp(a, "--exit-file")) val = &o.exit_file;
    else if (!strcmp(a, "--attach-socket")) val = &o.attach_socket;
    else if (!strcmp(a, "--log")) val = &o.log;
    else if (!strcmp(a, "--console-socket")) val = &o.console_socket;
    else if (!strcmp(a, "--exec")) val = &o.exec_process;
    else die("unknown option %s", a);
    if (val) {
      if (i + 1 >= argc) die("%s needs a value", a);
      *val = argv[++i];
    }
  }
  if (!o.id || !o.pid_file || !o.exit_file || !o.attach_socket || o.runtime_argc < 1) die("missing --id, --pid-file, --exit-file, --attach-socket or the runtime after --");
  if (!o.exec_process && !o.bundle) die("missing --bundle");
  if (o.tty && !o.console_socket) die("--tty needs --console-socket");
  if (o.tty && o.stdio_fd >= 0) die("--stdio-fd is for processes without a tty");
  if (o.stdio_fd >= 0 && (o.stdio_fd < 4 || fcntl(o.stdio_fd, F_GETFD) < 0)) die("--stdio-fd %d: not an open fd above 3", o.stdio_fd);
}

static void report(const char *text) {
  if (status_fd < 0) return;
  (void)write_all(status_fd, text, strlen(text), 1000);
}

int main(int argc, char **argv) {
  struct stat sst;
  status_fd = fstat(3, &sst) == 0 ? 3 : -1;
  o.stdio_fd = -1;
  parse_args(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  /* Detach: the daemon must be neither our parent nor our session. */
  pid_t p = fork();
  if (p < 0) die("fork: %s", strerror(errno));
  if (p > 0) _exit(0);
  setsid();
  p = fork();
  if (p < 0) _exit(2);
  if (p > 0) _exit(0);
  int null = open("/dev/null", O_RDWR);
  dup2(null, 0);
  dup2(null, 1);
  dup2(null, 2);
  if (null > 3) close(null);
  for (int fd = 4; fd < 1024; fd++)
    if (fd != o.stdio_fd) close(fd);
  if (o.stdio_fd >= 0) fcntl(o.stdio_fd, F_SETFD, FD_CLOEXEC);
  if (status_fd >= 0) fcntl(status_fd, F_SETFD, FD_CLOEXEC);
  prctl(PR_SET_CHILD_SUBREAPER, 1);

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

  if (o.log) log_fd = open(o.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  int lfd = listen_unix(o.attach_socket);
  fcntl(lfd, F_SETFL, O_NONBLOCK);

  /* The child side of stdio, and our side. */
  int out[2] = {-1, -1}, err[2] = {-1, -1}, in[2] = {-1, -1}, cfd = -1;
  if (pipe2(err, O_CLOEXEC) < 0) die("pipe");
  if (o.tty) cfd = listen_unix(o.console_socket);
  else if (o.stdio_fd < 0) {
    if (pipe2(out, O_CLOEXEC) < 0 || (o.open_stdin && pipe2(in, O_CLOEXEC) < 0)) die("pipe");
    /* 1 MiB pipes (not 64 KiB): a process that streams (the agent's SSH) and we wake each other far less often. */
    (void)fcntl(out[0], F_SETPIPE_SZ, 1 << 20);
    if (in[0] >= 0) (void)fcntl(in[0], F_SETPIPE_SZ, 1 << 20);
  }
  const char *extra[16];
  int n = 0;
  if (o.exec_process) {
    extra[n++] = "exec", extra[n++] = "-d", extra[n++] = "--process", extra[n++] = o.exec_process;
  } else {
    extra[n++] = "run", extra[n++] = "-d", extra[n++] = "--bundle", extra[n++] = o.bundle;
  }
  extra[n++] = "--pid-file", extra[n++] = o.pid_file;
  if (o.tty) extra[n++] = "--console-socket", extra[n++] = o.console_socket;
  extra[n++] = o.id;
  extra[n] = NULL;
  int child_in = o.stdio_fd >= 0 ? o.stdio_fd : in[0], child_out = o.tty ? err[1] : o.stdio_fd >= 0 ? o.stdio_fd : out[1];
  pid_t rt = spawn_runtime(extra, child_in, child_out, err[1]);
  int rc = rt < 0 ? 127 : wait_for(rt);
  if (o.stdio_fd >= 0) close(o.stdio_fd);
  if (in[0] >= 0) close(in[0]);
  if (out[1] >= 0) close(out[1]);
  close(err[1]);
  stdin_fd = in[1];
  if (stdin_fd >= 0) fcntl(stdin_fd, F_SETFL, O_NONBLOCK);

  pid_t pid = 0;
  FILE *pf = rc == 0 ? fopen(o.pid_file, "re") : NULL;
  if (pf) {
    if (fscanf(pf, "%d", &pid) != 1) pid = 0;
    fclose(pf);
  }
  if (o.tty && pid > 0) {
    master_fd = recv_master(cfd);
    if (master_fd < 0) pid = 0;
    else fcntl(master_fd, F_SETFL, O_NONBLOCK);
  }
  if (cfd >= 0) {
    close(cfd);
    unlink(o.console_socket);
  }
  if (pid <= 0) { /* the runtime failed: its stderr is the reason */
    char msg[8192];
    fcntl(err[0], F_SETFL, O_NONBLOCK);
    ssize_t r = read(err[0], msg, sizeof msg - 1);
    msg[r > 0 ? r : 0] = 0;
    report("error\n");
    report(r > 0 ? msg : (rc == 0 ? "the runtime did not report the process" : "the runtime failed"));
    unlink(o.attach_socket);
    return 1;
  }
  if (o.tty) {
    close(err[0]);
    err[0] = -1;
    if (o.rows > 0 && o.cols > 0) {
      struct winsize ws = {.ws_row = (unsigned short)o.rows, .ws_col = (unsigned short)o.cols};
      ioctl(master_fd, TIOCSWINSZ, &ws);
    }
  }
  char okmsg[64];
  snprintf(okmsg, sizeof okmsg, "ok %d\n", pid);
  report(okmsg);
  if (status_fd >= 0) close(status_fd);
  status_fd = -1;

  static struct stream streams[2];
  streams[0] = (struct stream){.fd = o.tty ? master_fd : out[0], .type = F_STDOUT, .name = "stdout"};
  streams[1] = (struct stream){.fd = err[0], .type = F_STDERR, .name = "stderr"};
  int exited = 0, status = 0;
  long long deadline = 0;
  for (;;) {
    int st;
    pid_t w;
    while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
      if (w == pid) {
        exited = 1;
        status = st;
        deadline = now_ms() + DRAIN_MS;
      }
    }
    int open_streams = (streams[0].fd >= 0) + (streams[1].fd >= 0);
    if (exited && (open_streams == 0 || now_ms() >= deadline)) break;
    struct pollfd pfds[4 + MAX_CLIENTS];
    int idx[4 + MAX_CLIENTS], np = 0;
    pfds[np] = (struct pollfd){.fd = sfd, .events = POLLIN}, idx[np++] = -1;
    pfds[np] = (struct pollfd){.fd = lfd, .events = POLLIN}, idx[np++] = -2;
    for (int s = 0; s < 2; s++)
      if (streams[s].fd >= 0) pfds[np] = (struct pollfd){.fd = streams[s].fd, .events = POLLIN}, idx[np++] = -10 - s;
    for (int i = 0; i < MAX_CLIENTS; i++)
      if (clients[i]) pfds[np] = (struct pollfd){.fd = clients[i]->fd, .events = POLLIN}, idx[np++] = i;
    int timeout = exited ? (int)(deadline - now_ms()) : -1;
    if (poll(pfds, (nfds_t)np, timeout < 0 && exited ? 0 : timeout) < 0 && errno != EINTR) break;
    for (int k = 0; k < np; k++) {
      if (!pfds[k].revents) continue;
      if (idx[k] == -1) {
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) > 0) {
        }
      } else if (idx[k] == -2) {
        int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        int slot = -1;
        for (int i = 0; i < MAX_CLIENTS && slot < 0 && c >= 0; i++)
          if (!clients[i]) slot = i;
        struct client *cl = slot >= 0 ? calloc(1, sizeof *cl) : NULL;
        if (!cl) {
          if (c >= 0) close(c);
          continue;
        }
        cl->fd = c;
        clients[slot] = cl;
        if (!ever_attached && replay_len > 0 && write_all(c, replay, replay_len, 2000) < 0) close_client(slot);
        ever_attached = 1;
        free(replay);
        replay = NULL;
        replay_len = 0;
      } else if (idx[k] <= -10) {
        struct stream *s = &streams[-10 - idx[k]];
        char buf[MAX_FRAME];
        ssize_t r = read(s->fd, buf, sizeof buf);
        if (r > 0) output(s, buf, (size_t)r);
        else if (r == 0 || (errno != EAGAIN && errno != EINTR)) { /* EOF, or EIO on a pty with no slave left */
          if (s->fd != master_fd) close(s->fd);
          s->fd = -1;
        }
      } else if (clients[idx[k]] && client_read(clients[idx[k]], pid) < 0) {
        close_client(idx[k]);
      }
    }
  }
  if (log_fd >= 0)
    for (int s = 0; s < 2; s++) stream_log(&streams[s], 1);

  char t[64], json[256];
  rfc3339(t, sizeof t);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  char sig[16] = "null";
  if (WIFSIGNALED(status)) snprintf(sig, sizeof sig, "%d", WTERMSIG(status));
  snprintf(json, sizeof json, "{\"exitCode\":%d,\"signal\":%s,\"pid\":%d,\"finishedAt\":\"%s\"}", code, sig, pid, t);
  write_file_atomic(o.exit_file, json);
  if (o.exec_process && !ever_attached) { /* keep the output and the exit for the first client */
    struct pollfd pfd = {.fd = lfd, .events = POLLIN};
    if (poll(&pfd, 1, LINGER_MS) > 0) {
      int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
      if (c >= 0) {
        if (replay_len) (void)write_all(c, replay, replay_len, 2000);
        (void)send_frame(c, F_EXIT, json, strlen(json));
        close(c);
      }
    }
  }
  broadcast(F_EXIT, json, strlen(json));
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i]) close_client(i);
  close(lfd);
  unlink(o.attach_socket);
  if (master_fd >= 0) close(master_fd);
  if (stdin_fd >= 0) close(stdin_fd);
  if (!o.exec_process && !o.keep) {
    const char *del[] = {"delete", "--force", o.id, NULL};
    pid_t d = spawn_runtime(del, -1, -1, -1);
    if (d > 0) wait_for(d);
  }
  /* Reap whatever else was reparented to us. */
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  return 0;
}
