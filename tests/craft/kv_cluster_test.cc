// Three replicated_kv processes (examples/replicated_kv) on 127.0.0.1. A client writes unique
// keys while the leader, then a follower, is SIGKILLed and restarted, over several rounds
// (bounded in writes and time). At the end every acknowledged write is on every node, the state
// machines are identical, and no node applied an entry twice (its command count equals its
// count of distinct applied indices).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "craft_test_util.h"
#include "strata/testing/temp_dir.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Member {
  std::uint64_t id;
  std::string raft;
  std::string client;
};

// One line in, one line out, over a fresh connection; nullopt on any failure or timeout.
std::optional<std::string> request(const std::string& address, const std::string& line) {
  const auto colon = address.rfind(':');
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1))));
  ::inet_pton(AF_INET, address.substr(0, colon).c_str(), &a.sin_addr);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return std::nullopt;
  timeval tv{12, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::optional<std::string> out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string msg = line + "\n";
    if (::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(msg.size())) {
      std::string reply;
      char c;
      while (::recv(fd, &c, 1, 0) == 1) {
        if (c == '\n') {
          out = reply;
          break;
        }
        reply += c;
      }
    }
  }
  ::close(fd);
  return out;
}

class Cluster {
 public:
  explicit Cluster(const std::string& root) : root_(root) {
    const std::vector<std::uint16_t> ports = strata::craft::test::free_ports(6);
    for (std::uint64_t id = 1; id <= 3; ++id) {
      members_.push_back({id, "127.0.0.1:" + std::to_string(ports[2 * (id - 1)]),
                          "127.0.0.1:" + std::to_string(ports[2 * (id - 1) + 1])});
    }
    pids_.fill(-1);
  }
  ~Cluster() {
    for (std::size_t i = 0; i < 3; ++i) kill(i + 1);
  }

  void start(std::uint64_t id) {
    std::vector<std::string> args{REPLICATED_KV_BIN,
                                  "--id",
                                  std::to_string(id),
                                  "--dir",
                                  root_ + "/n" + std::to_string(id),
                                  "--election-ms",
                                  "300",
                                  "--snapshot-threshold",
                                  "200",
                                  "--snapshot-trailing",
                                  "50"};
    for (const Member& m : members_) {
      args.push_back("--member");
      args.push_back(std::to_string(m.id) + "," + m.raft + "," + m.client);
    }
    const std::string log = root_ + "/n" + std::to_string(id) + ".log";
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    pids_[id - 1] = pid;
    // Up once it answers on its client port.
    ASSERT_TRUE(strata::craft::test::wait_for(
        [&] { return request(client(id), "state").has_value(); }, std::chrono::seconds(20)))
        << "node " << id << " did not come up; see " << log;
  }

  // SIGKILLs node `id`; it must have been running until then (a node that exited or crashed
  // by itself, say a restart that could not recover, is a failure, not a kill).
  void kill(std::uint64_t id) {
    pid_t& pid = pids_[id - 1];
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      pid = -1;
      EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
          << "node " << id << " ended by itself before the kill: "
          << (WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status))
                                : "signal " + std::to_string(WTERMSIG(status)));
    }
  }

  // A clean stop: SIGTERM and the exit status.
  int stop(std::uint64_t id) {
    pid_t& pid = pids_[id - 1];
    int status = 0;
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, &status, 0);
      pid = -1;
    }
    return status;
  }

  const std::string& client(std::uint64_t id) const { return members_[id - 1].client; }
  std::uint64_t id_of_client(const std::string& address) const {
    for (const Member& m : members_) {
      if (m.client == address) return m.id;
    }
    return 0;
  }
  bool running(std::uint64_t id) const { return pids_[id - 1] > 0; }

  // The leader's id as the running nodes see it (0: none agreed yet).
  std::uint64_t leader() const {
    for (std::uint64_t id = 1; id <= 3; ++id) {
      if (!running(id)) continue;
      auto s = request(client(id), "state");
      if (s && s->find("role=leader") != std::string::npos) return id;
    }
    return 0;
  }

 private:
  std::string root_;
  std::vector<Member> members_;
  std::array<pid_t, 3> pids_{};
};

// Writes `key` once through whoever leads (following redirects); true when acknowledged.
// Never retries a write whose outcome is unknown (that would be a second command).
bool put_once(Cluster& c, const std::string& key, std::uint64_t& hint) {
  for (int attempt = 0; attempt < 40; ++attempt) {
    if (hint == 0 || !c.running(hint)) {
      hint = c.leader();
      if (hint == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
    }
    auto reply = request(c.client(hint), "put " + key + " v" + key);
    if (!reply) return false;  // the node died mid-request: unknown outcome
    if (reply->rfind("OK ", 0) == 0) return true;
    if (reply->rfind("REDIRECT ", 0) == 0) {
      hint = c.id_of_client(reply->substr(9));
      continue;
    }
    if (*reply == "ERR no leader") {
      hint = 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    return false;  // ERR timeout / leadership lost: unknown outcome
  }
  return false;
}

std::map<std::string, std::string> parse_dump(const std::string& dump) {
  std::map<std::string, std::string> out;
  std::size_t at = dump.find(' ');
  while (at != std::string::npos) {
    const std::size_t eq = dump.find('=', at);
    const std::size_t next = dump.find(' ', at + 1);
    if (eq == std::string::npos) break;
    out[dump.substr(at + 1, eq - at - 1)] =
        dump.substr(eq + 1, next == std::string::npos ? std::string::npos : next - eq - 1);
    at = next;
  }
  return out;
}

TEST(CraftCluster, SigkilledLeadersAndFollowersLoseNoAcknowledgedWrite) {
  strata::testing::TempDir dir("kvcluster");
  Cluster c(dir.str());
  for (std::uint64_t id = 1; id <= 3; ++id) c.start(id);
  std::mt19937_64 rng(std::random_device{}());
  std::vector<std::string> acked;
  std::uint64_t unknown = 0;
  std::uint64_t hint = 0;
  std::uint64_t next_key = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(90);
  auto write_some = [&](int n) {
    for (int i = 0; i < n && Clock::now() < deadline; ++i) {
      const std::string key = "k" + std::to_string(next_key++);
      if (put_once(c, key, hint)) {
        acked.push_back(key);
      } else {
        ++unknown;
      }
    }
  };
  constexpr int kRounds = 4;
  const auto t0 = Clock::now();
  auto progress = [&](const char* what) {
    std::fprintf(stderr, "[%6.2fs] %s: %zu acknowledged, %llu unknown\n",
                 std::chrono::duration<double>(Clock::now() - t0).count(), what, acked.size(),
                 static_cast<unsigned long long>(unknown));
  };
  for (int round = 0; round < kRounds; ++round) {
    write_some(60);
    ASSERT_TRUE(strata::craft::test::wait_for([&] { return c.leader() != 0; }))
        << "no leader in round " << round;
    const std::uint64_t leader = c.leader();
    progress("before killing the leader");
    c.kill(leader);  // SIGKILL the leader
    write_some(60);  // a new leader takes over
    progress("leader down");
    c.start(leader);
    progress("leader restarted");
    const std::uint64_t follower = (leader + rng() % 2) % 3 + 1;  // any other node
    c.kill(follower);                                             // and a follower
    write_some(60);
    progress("follower down");
    c.start(follower);
  }
  write_some(20);
  ASSERT_GT(acked.size(), 200u) << "too few writes went through (" << unknown << " unknown)";

  // Quiesce: all three report the same state.
  std::array<std::map<std::string, std::string>, 3> dumps;
  const bool converged = strata::craft::test::wait_for(
      [&] {
        for (std::uint64_t id = 1; id <= 3; ++id) {
          auto d = request(c.client(id), "dump");
          if (!d) return false;
          dumps[id - 1] = parse_dump(*d);
        }
        return dumps[0] == dumps[1] && dumps[1] == dumps[2];
      },
      std::chrono::seconds(30));
  EXPECT_TRUE(converged) << "state machines differ";
  for (std::uint64_t id = 1; id <= 3; ++id) {
    const auto& d = dumps[id - 1];
    EXPECT_EQ(d.at("count"), d.at("markers")) << "node " << id << " applied an entry twice";
    EXPECT_GE(std::stoull(d.at("keys")), acked.size());
    for (const std::string& key : acked) {
      auto v = request(c.client(id), "lget " + key);
      ASSERT_TRUE(v.has_value());
      ASSERT_EQ(*v, "VALUE v" + key) << "node " << id << " lost acknowledged write " << key;
    }
  }
  for (std::uint64_t id = 1; id <= 3; ++id) {
    const int status = c.stop(id);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "node " << id;
  }
  std::printf("cluster test: %zu acknowledged writes, %llu unknown, %d kill rounds\n", acked.size(),
              static_cast<unsigned long long>(unknown), kRounds);
}

}  // namespace
