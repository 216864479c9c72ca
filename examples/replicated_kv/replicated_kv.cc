// replicated_kv — one member of a replicated key-value service: a strata::craft::Node (libraft
// with strata's storage) whose state machine is a RocksDbStore, and a line protocol for clients.
//
//   replicated_kv --id 1 --dir /tmp/kv1 --member 1,127.0.0.1:7001,127.0.0.1:8001
//       --member 2,127.0.0.1:7002,127.0.0.1:8002 --member 3,127.0.0.1:7003,127.0.0.1:8003
//
// Each --member is id,raft address,client address. The client protocol (one line each way):
//   put <key> <value>  ->  OK <index>          (committed and applied on the leader)
//   del <key>          ->  OK <index>
//   get <key>          ->  VALUE <value> | NOTFOUND   (linearizable: a barrier first)
//   any of the three on a follower -> REDIRECT <leader's client address> | ERR no leader
//   lget <key>         ->  VALUE <value> | NOTFOUND   (this node's state, no barrier)
//   dump               ->  DUMP applied=<i> count=<n> markers=<m> keys=<k> hash=<h>
//   state              ->  STATE role=<leader|follower|candidate|unavailable> leader=<id>
// Keys and values are single words. The process stops cleanly on SIGINT/SIGTERM.
//
// The state machine keeps, in the same RocksDB batch as each command: the applied index, the
// count of commands applied and a marker per index. After a restart libraft replays the log
// after its last snapshot; entries at or below the stored applied index are skipped, so no
// entry is applied twice (count == markers checks it). A snapshot is a consistent dump of both
// column families; restoring one replaces the store's contents.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "strata/craft/node.h"
#include "strata/rocksdb.h"

enum class Space : std::uint8_t { kData, kMeta };
template <>
struct strata::state_space_traits<Space> {
  static constexpr std::array names{"data", "meta"};
};

namespace {

using strata::Result;
using strata::Status;
using Store = strata::RocksDbStore<Space>;

constexpr std::string_view kApplied = "applied";
constexpr std::string_view kCount = "count";
constexpr std::string_view kMarker = "idx/";

std::uint64_t read_u64(const Store& store, std::string_view key) {
  auto v = store.get(Space::kMeta, key);
  if (!v || !v->has_value() || (*v)->size() != 8) return 0;
  return strata::decode_be<std::uint64_t>((*v)->data());
}

class KvStateMachine : public strata::craft::StateMachine {
 public:
  explicit KvStateMachine(Store store) : store_(std::move(store)) { reload(); }

  // Commands: 'P' <u32 key length> <key> <value>, or 'D' <u32 key length> <key>.
  static std::string put_command(std::string_view key, std::string_view value) {
    return strata::concat_bytes(std::string_view("P"), static_cast<std::uint32_t>(key.size()), key,
                                value);
  }
  static std::string del_command(std::string_view key) {
    return strata::concat_bytes(std::string_view("D"), static_cast<std::uint32_t>(key.size()), key);
  }

  Status apply(std::uint64_t index, std::string_view cmd) override {
    if (index <= applied_.load()) return Status();  // a replay of what the store holds
    if (cmd.size() < 5) return Status::corruption("short command");
    const auto klen = strata::decode_be<std::uint32_t>(cmd.data() + 1);
    if (cmd.size() < 5 + std::size_t{klen}) return Status::corruption("bad key length");
    const std::string_view key = cmd.substr(5, klen);
    auto batch = store_.new_batch();
    if (cmd[0] == 'P') {
      batch.put(Space::kData, key, cmd.substr(5 + klen));
    } else if (cmd[0] == 'D') {
      batch.erase(Space::kData, key);
    } else {
      return Status::corruption("unknown command");
    }
    const std::uint64_t count = count_ + 1;
    batch.put(Space::kMeta, kApplied, strata::concat_bytes(index));
    batch.put(Space::kMeta, kCount, strata::concat_bytes(count));
    batch.put(Space::kMeta, strata::concat_bytes(kMarker, index), "");
    STRATA_RETURN_IF_ERROR(store_.commit(std::move(batch)));
    applied_.store(index);
    count_ = count;
    return Status();
  }

  // Both column families, in key order: [u8 space][u32 klen][key][u32 vlen][value]...
  Result<std::string> snapshot() override {
    std::string image;
    for (Space space : {Space::kData, Space::kMeta}) {
      auto range = store_.prefix_iter(space, "");
      for (strata::KeyValue kv : range) {
        image += strata::concat_bytes(static_cast<std::uint8_t>(space),
                                      static_cast<std::uint32_t>(kv.key.size()), kv.key,
                                      static_cast<std::uint32_t>(kv.value.size()), kv.value);
      }
      STRATA_RETURN_IF_ERROR(range.status());
    }
    return image;
  }

  Status restore(std::string_view image) override {
    auto batch = store_.new_batch();
    for (Space space : {Space::kData, Space::kMeta}) {
      auto range = store_.prefix_iter(space, "");
      for (strata::KeyValue kv : range) batch.erase(space, kv.key);
      STRATA_RETURN_IF_ERROR(range.status());
    }
    std::size_t at = 0;
    while (at < image.size()) {
      if (image.size() - at < 9) return Status::corruption("snapshot image truncated");
      const auto space = static_cast<std::uint8_t>(image[at]);
      const auto klen = strata::decode_be<std::uint32_t>(image.data() + at + 1);
      if (space > 1 || image.size() - at - 5 < std::size_t{klen} + 4) {
        return Status::corruption("snapshot image damaged");
      }
      const std::string_view key = image.substr(at + 5, klen);
      const auto vlen = strata::decode_be<std::uint32_t>(image.data() + at + 5 + klen);
      if (image.size() - at - 9 - klen < vlen) return Status::corruption("snapshot value");
      batch.put(static_cast<Space>(space), key, image.substr(at + 9 + klen, vlen));
      at += 9 + std::size_t{klen} + vlen;
    }
    STRATA_RETURN_IF_ERROR(store_.commit(std::move(batch), {.sync = true}));
    reload();
    return Status();
  }

  Result<std::optional<std::string>> local_get(std::string_view key) const {
    return store_.get(Space::kData, key);
  }

  std::string dump() const {
    std::uint64_t keys = 0;
    std::uint64_t hash = 1469598103934665603ULL;  // FNV-1a over keys and values
    auto mix = [&](std::string_view s) {
      for (char c : s) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 1099511628211ULL;
      }
      hash ^= 0xff;
      hash *= 1099511628211ULL;
    };
    for (strata::KeyValue kv : store_.prefix_iter(Space::kData, "")) {
      ++keys;
      mix(kv.key);
      mix(kv.value);
    }
    std::uint64_t markers = 0;
    for (strata::KeyValue kv : store_.prefix_iter(Space::kMeta, kMarker)) {
      (void)kv;
      ++markers;
    }
    return "DUMP applied=" + std::to_string(read_u64(store_, kApplied)) +
           " count=" + std::to_string(read_u64(store_, kCount)) +
           " markers=" + std::to_string(markers) + " keys=" + std::to_string(keys) +
           " hash=" + std::to_string(hash);
  }

 private:
  void reload() {
    applied_.store(read_u64(store_, kApplied));
    count_ = read_u64(store_, kCount);
  }

  Store store_;
  std::atomic<std::uint64_t> applied_{0};
  std::uint64_t count_ = 0;  // loop thread only
};

struct Member {
  std::uint64_t id = 0;
  std::string raft_address;
  std::string client_address;
};

struct Server {
  strata::craft::Node* node = nullptr;
  KvStateMachine* sm = nullptr;
  std::map<std::uint64_t, std::string> client_addresses;

  std::string redirect() const {
    auto leader = node->leader();
    if (!leader) return "ERR no leader";
    auto it = client_addresses.find(leader->id);
    return it == client_addresses.end() ? "ERR no leader" : "REDIRECT " + it->second;
  }

  template <class T>
  static bool ready(std::future<T>& f) {
    return f.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  }

  std::string write(std::string command) {
    if (node->role() != strata::craft::Role::kLeader) return redirect();
    auto f = node->apply(std::move(command));
    if (!ready(f)) return "ERR timeout";
    auto r = f.get();
    if (r) return "OK " + std::to_string(*r);
    if (strata::craft::is_not_leader(r.error())) return redirect();
    return "ERR " + r.error().to_string();
  }

  std::string read(const std::string& key, bool linearizable) {
    if (linearizable) {
      if (node->role() != strata::craft::Role::kLeader) return redirect();
      auto f = node->barrier();
      if (!ready(f)) return "ERR timeout";
      auto b = f.get();
      if (!b)
        return strata::craft::is_not_leader(b.error()) ? redirect()
                                                       : "ERR " + b.error().to_string();
    }
    auto v = sm->local_get(key);
    if (!v) return "ERR " + v.error().to_string();
    return *v ? "VALUE " + **v : "NOTFOUND";
  }

  std::string handle(const std::string& line) {
    std::istringstream in(line);
    std::string op, key, value;
    in >> op >> key >> value;
    if (op == "put" && !key.empty() && !value.empty()) {
      return write(KvStateMachine::put_command(key, value));
    }
    if (op == "del" && !key.empty()) return write(KvStateMachine::del_command(key));
    if (op == "get" && !key.empty()) return read(key, true);
    if (op == "lget" && !key.empty()) return read(key, false);
    if (op == "dump") return sm->dump();
    if (op == "state") {
      const auto st = node->status();
      const char* role = st.role == strata::craft::Role::kLeader      ? "leader"
                         : st.role == strata::craft::Role::kFollower  ? "follower"
                         : st.role == strata::craft::Role::kCandidate ? "candidate"
                                                                      : "unavailable";
      return std::string("STATE role=") + role +
             " leader=" + std::to_string(st.leader ? st.leader->id : 0);
    }
    return "ERR usage: put <k> <v> | del <k> | get <k> | lget <k> | dump | state";
  }

  void serve(int fd) {
    std::string buf;
    char chunk[4096];
    for (;;) {
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      buf.append(chunk, static_cast<std::size_t>(n));
      if (buf.size() > (1 << 20)) break;  // a line that long is not a client of ours
      std::size_t nl;
      while ((nl = buf.find('\n')) != std::string::npos) {
        std::string line = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const std::string reply = handle(line) + "\n";
        if (::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL) < 0) {
          ::close(fd);
          return;
        }
      }
    }
    ::close(fd);
  }
};

bool split_host_port(const std::string& address, sockaddr_in& out) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  out = sockaddr_in{};
  out.sin_family = AF_INET;
  out.sin_port = htons(static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1))));
  return ::inet_pton(AF_INET, address.substr(0, colon).c_str(), &out.sin_addr) == 1;
}

int usage() {
  std::fprintf(stderr,
               "usage: replicated_kv --id N --dir DIR --member id,raft_addr,client_addr ...\n"
               "       [--election-ms MS] [--snapshot-threshold N] [--snapshot-trailing N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t id = 0;
  std::string dir;
  std::vector<Member> members;
  unsigned election_ms = 1000;
  unsigned threshold = 1024;
  unsigned trailing = 128;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--id") {
      id = std::stoull(value);
    } else if (flag == "--dir") {
      dir = value;
    } else if (flag == "--election-ms") {
      election_ms = static_cast<unsigned>(std::stoul(value));
    } else if (flag == "--snapshot-threshold") {
      threshold = static_cast<unsigned>(std::stoul(value));
    } else if (flag == "--snapshot-trailing") {
      trailing = static_cast<unsigned>(std::stoul(value));
    } else if (flag == "--member") {
      Member m;
      const auto a = value.find(',');
      const auto b = value.find(',', a + 1);
      if (a == std::string::npos || b == std::string::npos) return usage();
      m.id = std::stoull(value.substr(0, a));
      m.raft_address = value.substr(a + 1, b - a - 1);
      m.client_address = value.substr(b + 1);
      members.push_back(m);
    } else {
      return usage();
    }
  }
  const Member* self = nullptr;
  for (const Member& m : members) {
    if (m.id == id) self = &m;
  }
  if (id == 0 || dir.empty() || self == nullptr) return usage();

  // Signals are taken by sigwait in main; every thread started below inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto store = Store::open(dir + "/state", {});
  if (!store) {
    std::fprintf(stderr, "open state store: %s\n", store.error().to_string().c_str());
    return 1;
  }
  KvStateMachine sm(std::move(*store));
  strata::craft::NodeOptions o;
  o.id = id;
  o.address = self->raft_address;
  o.dir = dir + "/raft";
  o.election_timeout_ms = election_ms;
  o.heartbeat_timeout_ms = std::max(10u, election_ms / 10);
  o.snapshot_threshold = threshold;
  o.snapshot_trailing = trailing;
  for (const Member& m : members) o.initial_peers.push_back({m.id, m.raft_address});
  auto node = strata::craft::Node::start(o, sm);
  if (!node) {
    std::fprintf(stderr, "start node: %s\n", node.error().to_string().c_str());
    return 1;
  }
  Server server;
  server.node = node->get();
  server.sm = &sm;
  for (const Member& m : members) server.client_addresses[m.id] = m.client_address;

  sockaddr_in addr;
  if (!split_host_port(self->client_address, addr)) return usage();
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 64) != 0) {
    std::fprintf(stderr, "listen on %s: %s\n", self->client_address.c_str(), std::strerror(errno));
    return 1;
  }
  std::thread acceptor([&] {
    for (;;) {
      const int fd = ::accept(listener, nullptr, nullptr);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;  // the listener was shut down
      }
      std::thread([&server, fd] { server.serve(fd); }).detach();
    }
  });
  std::printf("replicated_kv %llu: raft %s, clients %s\n", static_cast<unsigned long long>(id),
              self->raft_address.c_str(), self->client_address.c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  ::shutdown(listener, SHUT_RDWR);
  ::close(listener);
  acceptor.join();
  const Status s = (*node)->stop();
  std::printf("replicated_kv %llu: stopped (%s)\n", static_cast<unsigned long long>(id),
              s.to_string().c_str());
  // Connection threads may still hold the server; exit without unwinding them.
  std::fflush(stdout);
  ::_exit(s.ok() ? 0 : 1);
}
