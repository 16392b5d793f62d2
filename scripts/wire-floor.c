// The bench LAN's floor: what moving a swarm's bytes costs with nothing but TCP. One process per
// namespace, one thread, epoll. It listens on PORT and reads every byte that comes into a buffer
// (the copy any receiver pays), and sends BYTES to each destination from a buffer (the copy any
// sender pays), all at once from START_MS (wall clock, shared by every namespace). It exits once
// it has sent everything and read EXPECT bytes, and prints the seconds from START_MS to then.
// No hashing, no disk, no cipher, no protocol: a time under this is not possible on the LAN.
//   wire-floor PORT EXPECT START_MS BYTES DEST...
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF (256 * 1024)
#define MAXFD 4096

static long long now_ms (void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void die (const char *what) { perror(what); exit(1); }

static long long left_to_send[MAXFD]; // per outgoing fd: bytes still to send (-1: not ours)

int main (int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: wire-floor PORT EXPECT START_MS BYTES DEST...\n"); return 2; }
  int port = atoi(argv[1]);
  long long expect = atoll(argv[2]), start = atoll(argv[3]), bytes = atoll(argv[4]);
  static char buf[BUF];
  for (int i = 0; i < BUF; i++) buf[i] = (char)(i * 131 + 7);
  for (int i = 0; i < MAXFD; i++) left_to_send[i] = -1;

  int ep = epoll_create1(0);
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = INADDR_ANY };
  if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  if (listen(ls, 256) < 0) die("listen");
  struct epoll_event ev = { .events = EPOLLIN, .data.fd = ls };
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);

  long long wait = start - now_ms();
  if (wait > 0) usleep((useconds_t)(wait * 1000));
  int sending = 0;
  for (int i = 5; i < argc; i++) {
    struct sockaddr_in d = { .sin_family = AF_INET, .sin_port = htons(port) };
    if (inet_pton(AF_INET, argv[i], &d.sin_addr) != 1) { fprintf(stderr, "bad address %s\n", argv[i]); return 2; }
    // Blocking, so a refusal shows here: a peer's listener may come up a moment late on a busy
    // machine, so a refused connect is tried again for up to 10 s.
    int s = -1;
    for (int tries = 0; ; tries++) {
      s = socket(AF_INET, SOCK_STREAM, 0);
      if (s < 0 || s >= MAXFD) die("socket");
      if (connect(s, (struct sockaddr *)&d, sizeof d) == 0) break;
      if (errno != ECONNREFUSED || tries >= 500) die("connect");
      close(s);
      usleep(20000);
    }
    fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
    left_to_send[s] = bytes;
    sending++;
    struct epoll_event o = { .events = EPOLLOUT, .data.fd = s };
    epoll_ctl(ep, EPOLL_CTL_ADD, s, &o);
  }

  long long got = 0;
  struct epoll_event evs[64];
  while (sending > 0 || got < expect) {
    int n = epoll_wait(ep, evs, 64, 30000);
    if (n < 0) { if (errno == EINTR) continue; die("epoll_wait"); }
    if (n == 0) { fprintf(stderr, "stalled: got %lld of %lld, %d sends open\n", got, expect, sending); return 1; }
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == ls) {
        int c;
        while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          if (c >= MAXFD) { fprintf(stderr, "too many connections\n"); return 1; }
          struct epoll_event r = { .events = EPOLLIN, .data.fd = c };
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &r);
        }
        if (errno != EAGAIN && errno != ECONNABORTED && errno != EINTR) die("accept");
      } else if (left_to_send[fd] >= 0) {
        while (left_to_send[fd] > 0) {
          ssize_t w = send(fd, buf, left_to_send[fd] < BUF ? (size_t)left_to_send[fd] : BUF, MSG_NOSIGNAL);
          if (w < 0) { if (errno == EAGAIN) break; die("send"); }
          left_to_send[fd] -= w;
        }
        if (left_to_send[fd] == 0) {
          epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
          shutdown(fd, SHUT_WR);
          left_to_send[fd] = -1;
          sending--;
        }
      } else {
        for (;;) {
          ssize_t r = read(fd, buf, BUF);
          if (r > 0) { got += r; continue; }
          if (r == 0) { epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL); close(fd); }
          else if (errno != EAGAIN) die("read");
          break;
        }
      }
    }
  }
  printf("%.3f\n", (now_ms() - start) / 1000.0);
  return 0;
}
