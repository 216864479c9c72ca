// Helpers shared by the craft tests: free loopback ports and a small state machine.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "strata/core/bytes.h"
#include "strata/craft/node.h"

namespace strata::craft::test {

// `n` distinct TCP ports on 127.0.0.1 that were free a moment ago: all n are bound (port 0)
// before any is released, so one call never returns the same port twice (binding and
// releasing one at a time can, and then libraft refuses the configuration: "server address
// already in use"). A port is 0 if the kernel gave none.
inline std::vector<std::uint16_t> free_ports(std::size_t n) {
  std::vector<int> fds;
  std::vector<std::uint16_t> ports;
  for (std::size_t i = 0; i < n; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ports.push_back(0);
    } else {
      ports.push_back(ntohs(a.sin_port));
    }
    if (fd >= 0) fds.push_back(fd);
  }
  for (const int fd : fds) ::close(fd);
  return ports;
}

// Waits for `pred` with a deadline (no fixed sleeps: polls every millisecond). Returns pred().
inline bool wait_for(const std::function<bool()>& pred,
                     std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// "key=value", padded with spaces to a multiple of 8 bytes (stock raft_uv, the baseline some
// tests compare with, accepts only such entries; KvMachine drops the padding).
inline std::string kv_cmd(const std::string& key, const std::string& value) {
  std::string c = key + "=" + value;
  c.resize((c.size() + 7) / 8 * 8, ' ');
  return c;
}

// A map of key -> value; commands are "key=value". Records every applied index, so that a test
// can check that no index is applied twice on a running node.
class KvMachine : public StateMachine {
 public:
  Status apply(std::uint64_t index, std::string_view command) override {
    std::lock_guard lock(mu_);
    if (index <= applied_) ++reapplied_;
    applied_ = index;
    const auto eq = command.find('=');
    if (eq == std::string_view::npos) return Status();
    std::string_view value = command.substr(eq + 1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);  // kv_cmd's padding
    kv_[std::string(command.substr(0, eq))] = std::string(value);
    ++applies_;
    return Status();
  }
  Result<std::string> snapshot() override {
    std::lock_guard lock(mu_);
    std::string out = concat_bytes(applied_);
    for (const auto& [k, v] : kv_) {
      out += concat_bytes(static_cast<std::uint32_t>(k.size()), k,
                          static_cast<std::uint32_t>(v.size()), v);
    }
    ++snapshots_;
    return out;
  }
  Status restore(std::string_view image) override {
    std::lock_guard lock(mu_);
    if (image.size() < 8) return Status::corruption("short image");
    kv_.clear();
    applied_ = decode_be<std::uint64_t>(image.data());
    std::size_t at = 8;
    while (at + 4 <= image.size()) {
      const auto kl = decode_be<std::uint32_t>(image.data() + at);
      std::string k(image.substr(at + 4, kl));
      at += 4 + kl;
      const auto vl = decode_be<std::uint32_t>(image.data() + at);
      kv_[k] = std::string(image.substr(at + 4, vl));
      at += 4 + vl;
    }
    ++restores_;
    return Status();
  }

  std::map<std::string, std::string> kv() const {
    std::lock_guard lock(mu_);
    return kv_;
  }
  std::uint64_t reapplied() const {
    std::lock_guard lock(mu_);
    return reapplied_;
  }
  std::uint64_t restores() const {
    std::lock_guard lock(mu_);
    return restores_;
  }
  std::uint64_t snapshots() const {
    std::lock_guard lock(mu_);
    return snapshots_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> kv_;
  std::uint64_t applied_ = 0;
  std::uint64_t applies_ = 0;
  std::uint64_t reapplied_ = 0;
  std::uint64_t restores_ = 0;
  std::uint64_t snapshots_ = 0;
};

inline NodeOptions options_for(std::uint64_t id, const std::vector<Peer>& peers,
                               const std::string& dir, Storage storage = Storage::kStrata) {
  NodeOptions o;
  o.id = id;
  o.address = peers[id - 1].address;
  o.dir = dir;
  o.initial_peers = peers;
  o.election_timeout_ms = 300;
  o.heartbeat_timeout_ms = 30;
  o.storage = storage;
  return o;
}

inline std::vector<Peer> make_peers(std::size_t n) {
  std::vector<Peer> peers;
  const std::vector<std::uint16_t> ports = free_ports(n);
  for (std::size_t i = 1; i <= n; ++i) {
    peers.push_back({i, "127.0.0.1:" + std::to_string(ports[i - 1])});
  }
  return peers;
}

}  // namespace strata::craft::test
