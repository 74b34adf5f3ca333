/* engine-lt.cc — the C interface of engine.h over libtorrent-rasterbar 2.0.
 *
 * Owns one lt::session per rg_engine and a table of the torrents it added,
 * keyed by the 20-byte info hash (v1, or the truncated v2 hash for a v2-only
 * torrent — info_hash_t::get_best()). Every extern "C" function catches all
 * exceptions and turns them into -errno (and a cause where the signature has
 * one); nothing C++ crosses the boundary.
 *
 * Threads: libtorrent runs its own network and disk threads. The only code
 * of ours that runs on them is the alert-notify callback, which writes to an
 * eventfd and nothing else. Everything else is called from one thread (the
 * event loop) and may make synchronous calls into the session.
 *
 * Invariants and libtorrent 2.0.8 quirks handled here:
 *  - read_piece() is never called (on a missing piece it errors and pauses
 *    the torrent); readers pread the cache file after PIECE_FINISHED.
 *  - Storage is posix_disk_io: blocks are pwrite()n before the piece is
 *    hashed, so PIECE_FINISHED means the bytes are in the file.
 *  - set_piece_deadline() forces priority 7 and leaves 1 behind when the
 *    deadline is reset. We remember the priorities the caller set last and
 *    restore a piece's own priority on reset; set_piece_priorities keeps
 *    pieces with a pending deadline at 7.
 *  - With every piece at priority 0 a torrent is "finished"; libtorrent
 *    would then close connections to seeds (close_redundant_connections) and
 *    wait min_reconnect_time before reconnecting once a reader raises
 *    priorities. Both are turned off / shortened for streaming. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <string>
#include <vector>

#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/bdecode.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/hasher.hpp>
#include <libtorrent/ip_filter.hpp>
#include <libtorrent/posix_disk_io.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>

#include "engine.h"
extern "C" {
#include "log.h"
}

namespace {

using key_t20 = std::array<uint8_t, 20>;

/* Hard caps on what we decode from outside input. */
constexpr size_t kMaxTorrentBytes = 64u << 20;
constexpr int kMaxDecodeDepth = 100;
constexpr int kMaxDecodeTokens = 4000000;

struct tor {
  lt::torrent_handle h;
  int num_pieces = -1; /* -1 until metadata is known */
  bool zero = false;   /* added with zero_priorities */
  /* The priorities the caller asked for last (restored after a deadline). */
  std::vector<uint8_t> prio;
  /* Pieces with a deadline that have not finished yet. */
  std::set<int> deadlines;
};

} // namespace

struct rg_engine {
  std::unique_ptr<lt::session> ses;
  int efd = -1;
  std::map<key_t20, tor> torrents;
  /* Every handle we added → its key, kept until its torrent_removed_alert so
   * late alerts of a removed torrent still carry the right hash. Ordered by
   * owner_before, which works on expired handles too. */
  std::map<lt::torrent_handle, key_t20> by_handle;
  /* IP filter and port mapping state (rg_engine_set_ip_filter,
   * rg_engine_portmaps), updated from pop_alerts */
  int64_t blocked_peers = 0;
  /* The blocklist's filter, and the addresses banned for corrupt data since
   * start (their count is what rg_engine_banned_peers reports): the session
   * filter is always both (apply_filter). */
  lt::ip_filter list_filter;
  std::set<lt::address> banned;
  std::vector<rg_portmap> portmaps;
};

static void apply_filter(rg_engine *e);

namespace {

char *dup_cstr(const std::string &s) {
  char *p = strdup(s.c_str());
  return p;
}

void set_cause(char **cause, const std::string &s) {
  if (cause) {
    free(*cause);
    *cause = dup_cstr(s);
  }
}

key_t20 key_of(const uint8_t ih[20]) {
  key_t20 k;
  memcpy(k.data(), ih, 20);
  return k;
}

key_t20 key_of(const lt::info_hash_t &ih) {
  lt::sha1_hash best = ih.get_best();
  key_t20 k;
  memcpy(k.data(), best.data(), 20);
  return k;
}

void copy_msg(char *dst, size_t cap, const std::string &s) {
  size_t n = s.size() < cap - 1 ? s.size() : cap - 1;
  memcpy(dst, s.data(), n);
  dst[n] = '\0';
}

tor *find_tor(rg_engine *e, const uint8_t ih[20]) {
  if (!e || !ih)
    return nullptr;
  auto it = e->torrents.find(key_of(ih));
  return it == e->torrents.end() ? nullptr : &it->second;
}

/* Fills T's piece count (and its default priorities) once metadata exists. */
bool ensure_meta(tor &t) {
  if (t.num_pieces >= 0)
    return true;
  std::shared_ptr<const lt::torrent_info> ti = t.h.torrent_file();
  if (!ti || !ti->is_valid())
    return false;
  t.num_pieces = ti->num_pieces();
  t.prio.assign(size_t(t.num_pieces), t.zero ? 0 : 4);
  return true;
}

/* "1.2.3.4:5" or "[::1]:5" → endpoint. */
bool parse_endpoint(const char *s, lt::tcp::endpoint &ep) {
  if (!s)
    return false;
  std::string str(s), host;
  size_t colon;
  if (!str.empty() && str[0] == '[') {
    size_t close = str.find(']');
    if (close == std::string::npos || close + 1 >= str.size() ||
        str[close + 1] != ':')
      return false;
    host = str.substr(1, close - 1);
    colon = close + 1;
  } else {
    colon = str.rfind(':');
    if (colon == std::string::npos)
      return false;
    host = str.substr(0, colon);
  }
  std::string port = str.substr(colon + 1);
  if (port.empty() || port.size() > 5)
    return false;
  char *end;
  long p = strtol(port.c_str(), &end, 10);
  if (*end || p <= 0 || p > 65535)
    return false;
  lt::error_code ec;
  lt::address a = lt::make_address(host, ec);
  if (ec)
    return false;
  ep = lt::tcp::endpoint(a, (unsigned short)p);
  return true;
}

/* Decodes a .torrent or a bare info dict into a torrent_info. Never throws
 * for bad input; *err says what is wrong. */
std::shared_ptr<lt::torrent_info> load_info(const uint8_t *buf, size_t len,
                                            std::string &err) {
  if (!buf || len == 0) {
    err = "empty torrent data";
    return nullptr;
  }
  if (len > kMaxTorrentBytes) {
    err = "torrent data too large (" + std::to_string(len) + " bytes, limit " +
          std::to_string(kMaxTorrentBytes) + ")";
    return nullptr;
  }
  lt::error_code ec;
  int pos = 0;
  lt::span<char const> sp(reinterpret_cast<const char *>(buf),
                          std::ptrdiff_t(len));
  lt::bdecode_node top =
      lt::bdecode(sp, ec, &pos, kMaxDecodeDepth, kMaxDecodeTokens);
  if (ec) {
    err = "not bencoded data (" + ec.message() + " at byte " +
          std::to_string(pos) + ")";
    return nullptr;
  }
  if (top.type() != lt::bdecode_node::dict_t) {
    err = "not a torrent: top level is not a dictionary";
    return nullptr;
  }
  std::shared_ptr<lt::torrent_info> ti;
  if (top.dict_find("info")) {
    if (top.dict_find_dict("info").type() != lt::bdecode_node::dict_t) {
      err = "invalid torrent: \"info\" is not a dictionary";
      return nullptr;
    }
    ti = std::make_shared<lt::torrent_info>(top, ec);
  } else {
    if (!top.dict_find("pieces") && !top.dict_find("file tree") &&
        !top.dict_find("piece length")) {
      err = "not a torrent file or info dictionary (no \"info\", "
            "\"pieces\" or \"piece length\" key)";
      return nullptr;
    }
    /* A bare info dict: wrap it as {"info": <raw>} so the info section (and
     * so the info hash) is exactly these bytes. */
    std::string wrapped;
    wrapped.reserve(len + 8);
    wrapped.append("d4:info");
    wrapped.append(reinterpret_cast<const char *>(buf), len);
    wrapped.append("e");
    lt::bdecode_node w = lt::bdecode(
        lt::span<char const>(wrapped.data(), std::ptrdiff_t(wrapped.size())),
        ec, &pos, kMaxDecodeDepth + 1, kMaxDecodeTokens);
    if (ec) {
      err = "not bencoded data (" + ec.message() + ")";
      return nullptr;
    }
    ti = std::make_shared<lt::torrent_info>(w, ec);
  }
  if (ec) {
    err = "invalid torrent: " + ec.message();
    return nullptr;
  }
  if (!ti->is_valid() || ti->num_pieces() <= 0 || ti->num_files() <= 0) {
    err = "invalid torrent: no pieces or no files";
    return nullptr;
  }
  return ti;
}

int map_state(const lt::torrent_status &s) {
  if (s.errc)
    return RG_TS_ERROR;
  if (s.flags & lt::torrent_flags::paused)
    return RG_TS_PAUSED;
  switch (s.state) {
  case lt::torrent_status::checking_files:
  case lt::torrent_status::checking_resume_data:
    return RG_TS_CHECKING;
  case lt::torrent_status::downloading_metadata:
    return RG_TS_METADATA;
  case lt::torrent_status::downloading:
    return RG_TS_DOWNLOADING;
  case lt::torrent_status::finished:
    return RG_TS_FINISHED;
  case lt::torrent_status::seeding:
    return RG_TS_SEEDING;
  default:
    return RG_TS_DOWNLOADING;
  }
}

void notify_cb(int fd) {
  uint64_t one = 1;
  ssize_t r = write(fd, &one, sizeof one);
  (void)r; /* EAGAIN: the counter is already non-zero, fine */
}

} // namespace

/* ---- session ---- */

extern "C" rg_engine *rg_engine_new(const rg_engine_opts *o, char **cause) {
  rg_engine *e = nullptr;
  try {
    rg_engine_opts dflt;
    memset(&dflt, 0, sizeof dflt);
    if (!o)
      o = &dflt;
    e = new rg_engine();
    e->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (e->efd < 0) {
      int err = errno;
      set_cause(cause, std::string("eventfd: ") + strerror(err));
      delete e;
      return nullptr;
    }

    lt::settings_pack sp;
    sp.set_int(
        lt::settings_pack::alert_mask,
        int(lt::alert_category::status | lt::alert_category::error |
            lt::alert_category::storage | lt::alert_category::piece_progress |
            lt::alert_category::port_mapping | lt::alert_category::connect |
            lt::alert_category::peer));
    sp.set_int(lt::settings_pack::alert_queue_size, 100000);
    sp.set_str(lt::settings_pack::user_agent, "reelgate/0.1");
    sp.set_str(lt::settings_pack::peer_fingerprint, "-RG0010-");
    std::string listen = o->listen_interfaces && *o->listen_interfaces
                             ? o->listen_interfaces
                             : "0.0.0.0:0,[::]:0";
    sp.set_str(lt::settings_pack::listen_interfaces, listen);
    if (o->outgoing_interfaces && *o->outgoing_interfaces)
      sp.set_str(lt::settings_pack::outgoing_interfaces,
                 o->outgoing_interfaces);
    sp.set_bool(lt::settings_pack::enable_dht, o->enable_dht);
    sp.set_bool(lt::settings_pack::enable_lsd, o->enable_lsd);
    sp.set_bool(lt::settings_pack::enable_natpmp, o->enable_natpmp);
    sp.set_bool(lt::settings_pack::enable_upnp, o->enable_upnp);
    sp.set_bool(lt::settings_pack::enable_outgoing_utp, o->outgoing_utp);
    sp.set_bool(lt::settings_pack::enable_incoming_utp, o->incoming_utp);
    sp.set_bool(lt::settings_pack::enable_outgoing_tcp, true);
    sp.set_bool(lt::settings_pack::enable_incoming_tcp, true);
    sp.set_int(lt::settings_pack::download_rate_limit,
               o->download_rate_limit > 0 ? o->download_rate_limit : 0);
    sp.set_int(lt::settings_pack::upload_rate_limit,
               o->upload_rate_limit > 0 ? o->upload_rate_limit : 0);
    if (o->connections_limit > 0)
      sp.set_int(lt::settings_pack::connections_limit, o->connections_limit);
    if (o->request_timeout_s > 0)
      sp.set_int(lt::settings_pack::request_timeout, o->request_timeout_s);
    if (o->piece_timeout_s > 0)
      sp.set_int(lt::settings_pack::piece_timeout, o->piece_timeout_s);
    sp.set_bool(lt::settings_pack::allow_multiple_connections_per_ip, false);
    sp.set_bool(lt::settings_pack::strict_end_game_mode, false);
    /* Streaming: a torrent whose pieces are all at priority 0 is "finished"
     * until a reader raises some; keep its seeds connected meanwhile, and
     * reconnect quickly to peers that dropped. */
    sp.set_bool(lt::settings_pack::close_redundant_connections, false);
    sp.set_int(lt::settings_pack::min_reconnect_time, 2);
    sp.set_int(lt::settings_pack::stop_tracker_timeout, 2);

    /* this constructor loads the default plugins: ut_metadata, ut_pex and
     * smart_ban (which pins a failed piece's bad block on the peer that
     * sent it, when several peers contributed to the piece) */
    lt::session_params params(std::move(sp));
    params.disk_io_constructor = lt::posix_disk_io_constructor;
    e->ses = std::make_unique<lt::session>(std::move(params));

    if (o->limit_local_peers) {
      /* libtorrent puts LAN/loopback peers in local_peer_class (unlimited)
       * instead of the global class that carries the session rate limits;
       * map every address to the global class instead. */
      lt::ip_filter f;
      uint32_t gmask =
          1u << static_cast<uint32_t>(lt::session::global_peer_class_id);
      f.add_rule(lt::make_address("0.0.0.0"),
                 lt::make_address("255.255.255.255"), gmask);
      f.add_rule(lt::make_address("::"),
                 lt::make_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
                 gmask);
      e->ses->set_peer_class_filter(f);
    }

    int fd = e->efd;
    e->ses->set_alert_notify([fd] { notify_cb(fd); });

    /* An explicit listen address that cannot be bound is a configuration
     * error the caller should hear about now. */
    if (o->listen_interfaces && *o->listen_interfaces &&
        !e->ses->is_listening()) {
      std::string why = "cannot listen on " + listen;
      std::vector<lt::alert *> v;
      e->ses->pop_alerts(&v);
      for (lt::alert *a : v)
        if (auto *lf = lt::alert_cast<lt::listen_failed_alert>(a)) {
          why += ": " + lf->message();
          break;
        }
      set_cause(cause, why);
      rg_engine *tmp = e;
      rg_engine_free(&tmp);
      return nullptr;
    }
    return e;
  } catch (std::bad_alloc &) {
    set_cause(cause, "out of memory creating the torrent session");
  } catch (std::exception &ex) {
    set_cause(cause, std::string("cannot start torrent session: ") + ex.what());
  } catch (...) {
    set_cause(cause, "cannot start torrent session");
  }
  if (e) {
    rg_engine *tmp = e;
    rg_engine_free(&tmp);
  }
  return nullptr;
}

extern "C" void rg_engine_free(rg_engine **ep) {
  if (!ep || !*ep)
    return;
  rg_engine *e = *ep;
  *ep = nullptr;
  try {
    if (e->ses) {
      e->ses->set_alert_notify([] {});
      lt::settings_pack sp;
      sp.set_int(lt::settings_pack::stop_tracker_timeout, 1);
      e->ses->apply_settings(std::move(sp));
      lt::session_proxy proxy = e->ses->abort();
      e->ses.reset();
      /* proxy's destructor waits for the session thread (bounded by
       * stop_tracker_timeout). */
    }
  } catch (...) {
  }
  if (e->efd >= 0)
    close(e->efd);
  try {
    delete e;
  } catch (...) {
  }
}

extern "C" int rg_engine_alert_fd(rg_engine *e) { return e ? e->efd : -1; }

static void note_portmap(rg_engine *e, lt::alert *a);

extern "C" rg_alert *rg_engine_pop_alerts(rg_engine *e, size_t *n) {
  *n = 0;
  if (!e)
    return nullptr;
  uint64_t cnt;
  while (read(e->efd, &cnt, sizeof cnt) == (ssize_t)sizeof cnt)
    ;
  rg_alert *out = nullptr;
  try {
    std::vector<lt::alert *> v;
    e->ses->pop_alerts(&v);
    if (v.empty())
      return nullptr;
    out = static_cast<rg_alert *>(calloc(v.size(), sizeof *out));
    if (!out)
      return nullptr;
    size_t k = 0;
    bool filter_dirty = false;
    for (lt::alert *a : v) {
      rg_alert r;
      memset(&r, 0, sizeof r);
      r.piece = -1;
      bool has_ih = false;
      key_t20 key{};
      if (auto *ta = dynamic_cast<lt::torrent_alert *>(a)) {
        auto it = e->by_handle.find(ta->handle);
        if (it != e->by_handle.end()) {
          key = it->second;
          has_ih = true;
        }
      }
      switch (a->type()) {
      case lt::metadata_received_alert::alert_type: {
        r.type = RG_ALERT_METADATA;
        if (has_ih) {
          auto it = e->torrents.find(key);
          if (it != e->torrents.end() &&
              it->second.h == static_cast<lt::torrent_alert *>(a)->handle) {
            tor &t = it->second;
            ensure_meta(t);
            if (t.zero && t.num_pieces > 0) {
              /* default_dont_download set every file to 0; make it explicit
               * per piece so later calls see the same state. */
              std::vector<lt::download_priority_t> pv(size_t(t.num_pieces),
                                                      lt::dont_download);
              t.h.prioritize_pieces(pv);
            }
          }
        }
        break;
      }
      case lt::piece_finished_alert::alert_type: {
        auto *pa = static_cast<lt::piece_finished_alert *>(a);
        r.type = RG_ALERT_PIECE_FINISHED;
        r.piece = static_cast<int>(pa->piece_index);
        if (has_ih) {
          auto it = e->torrents.find(key);
          if (it != e->torrents.end())
            it->second.deadlines.erase(r.piece);
        }
        break;
      }
      case lt::hash_failed_alert::alert_type:
        r.type = RG_ALERT_HASH_FAILED;
        r.piece = static_cast<int>(
            static_cast<lt::hash_failed_alert *>(a)->piece_index);
        break;
      case lt::torrent_error_alert::alert_type:
        r.type = RG_ALERT_TORRENT_ERROR;
        break;
      case lt::file_error_alert::alert_type:
        r.type = RG_ALERT_FILE_ERROR;
        break;
      case lt::torrent_removed_alert::alert_type: {
        auto *ra = static_cast<lt::torrent_removed_alert *>(a);
        r.type = RG_ALERT_REMOVED;
        key = key_of(ra->info_hashes);
        has_ih = true;
        e->by_handle.erase(ra->handle);
        break;
      }
      case lt::torrent_finished_alert::alert_type:
        r.type = RG_ALERT_FINISHED;
        break;
      case lt::listen_failed_alert::alert_type:
        r.type = RG_ALERT_LISTEN_FAILED;
        break;
      case lt::listen_succeeded_alert::alert_type: {
        auto *la = static_cast<lt::listen_succeeded_alert *>(a);
        if (la->socket_type != lt::socket_type_t::tcp)
          continue;
        r.type = RG_ALERT_LISTEN_OK;
        r.piece = la->port;
        break;
      }
      case lt::peer_connect_alert::alert_type:
        r.type = RG_ALERT_PEER_CONNECT;
        break;
      case lt::peer_ban_alert::alert_type: {
        /* libtorrent bans a peer that alone sent a piece failing its hash
         * check, or whose failures outweigh its good pieces; it forgets
         * the ban when the torrent leaves the session (eviction, re-add).
         * The address goes into the session filter so no torrent talks
         * to it again while the daemon runs. */
        auto *ba = static_cast<lt::peer_ban_alert *>(a);
        r.type = RG_ALERT_PEER_BANNED;
        lt::address ip = ba->endpoint.address();
        if (!ip.is_unspecified() && e->banned.insert(ip).second)
          filter_dirty = true; /* applied once, after this batch */
        break;
      }
      case lt::peer_blocked_alert::alert_type:
        e->blocked_peers++;
        continue;
      case lt::portmap_alert::alert_type:
      case lt::portmap_error_alert::alert_type:
        note_portmap(e, a);
        continue;
      case lt::alerts_dropped_alert::alert_type:
        rg_warn("libtorrent dropped alerts (queue full)");
        continue;
      default:
        if (a->category() & lt::alert_category::error)
          rg_debug("libtorrent: %s", a->message().c_str());
        continue;
      }
      if (dynamic_cast<lt::torrent_alert *>(a) && !has_ih)
        continue; /* a torrent we never added (cannot happen) */
      if (has_ih)
        memcpy(r.ih, key.data(), 20);
      copy_msg(r.msg, sizeof r.msg, a->message());
      out[k++] = r;
    }
    if (filter_dirty) {
      try {
        apply_filter(e);
      } catch (...) {
        rg_warn("cannot add banned peers to the IP filter");
      }
    }
    *n = k;
    if (k == 0) {
      free(out);
      out = nullptr;
    }
    return out;
  } catch (...) {
    free(out);
    *n = 0;
    return nullptr;
  }
}

extern "C" int rg_engine_listen_port(rg_engine *e) {
  try {
    return e && e->ses ? int(e->ses->listen_port()) : 0;
  } catch (...) {
    return 0;
  }
}

extern "C" int rg_engine_set_rate_limits(rg_engine *e, int download,
                                         int upload) {
  if (!e)
    return -EINVAL;
  try {
    lt::settings_pack sp;
    sp.set_int(lt::settings_pack::download_rate_limit,
               download > 0 ? download : 0);
    sp.set_int(lt::settings_pack::upload_rate_limit, upload > 0 ? upload : 0);
    e->ses->apply_settings(std::move(sp));
    return 0;
  } catch (...) {
    return -EIO;
  }
}

/* ---- torrents ---- */

extern "C" int rg_engine_add(rg_engine *e, const rg_add *a, char **cause) {
  if (!e || !a) {
    set_cause(cause, "no engine or torrent");
    return -EINVAL;
  }
  try {
    if (!a->save_path || !*a->save_path) {
      set_cause(cause, "no save path given for the torrent");
      return -EINVAL;
    }
    lt::add_torrent_params atp;
    key_t20 key;
    int num_pieces = -1;
    if (a->info) {
      std::string err;
      std::shared_ptr<lt::torrent_info> ti =
          load_info(a->info, a->info_len, err);
      if (!ti) {
        set_cause(cause, err);
        return -EINVAL;
      }
      key = key_of(ti->info_hashes());
      num_pieces = ti->num_pieces();
      if (a->have && a->have_len) {
        if (a->have_len < size_t((num_pieces + 7) / 8)) {
          set_cause(cause, "have bitfield is shorter than the piece count");
          return -EINVAL;
        }
        atp.have_pieces.resize(num_pieces, false);
        for (int i = 0; i < num_pieces; i++)
          if (a->have[i / 8] & (0x80 >> (i % 8)))
            atp.have_pieces.set_bit(lt::piece_index_t(i));
        atp.flags |= lt::torrent_flags::no_verify_files;
      }
      if (a->seed_mode)
        atp.flags |= lt::torrent_flags::seed_mode;
      if (a->zero_priorities)
        atp.piece_priorities.assign(size_t(num_pieces), lt::dont_download);
      atp.ti = std::move(ti);
    } else {
      if (!a->ih) {
        set_cause(cause, "neither metadata nor an info hash given");
        return -EINVAL;
      }
      key = key_of(a->ih);
      atp.info_hashes.v1 = lt::sha1_hash(reinterpret_cast<const char *>(a->ih));
      if (a->name)
        atp.name = a->name;
      if (a->zero_priorities)
        atp.flags |= lt::torrent_flags::default_dont_download;
    }
    if (e->torrents.count(key)) {
      set_cause(cause, "torrent is already in the session");
      return -EEXIST;
    }
    for (size_t i = 0; i < a->ntrackers; i++)
      if (a->trackers && a->trackers[i] && *a->trackers[i])
        atp.trackers.push_back(a->trackers[i]);
    std::vector<lt::tcp::endpoint> peers;
    for (size_t i = 0; i < a->npeers; i++) {
      lt::tcp::endpoint ep;
      if (a->peers && parse_endpoint(a->peers[i], ep))
        peers.push_back(ep);
      else
        rg_debug("ignoring peer address '%s'",
                 a->peers && a->peers[i] ? a->peers[i] : "(null)");
    }
    atp.peers = peers;
    atp.save_path = a->save_path;
    atp.flags &=
        ~(lt::torrent_flags::auto_managed | lt::torrent_flags::paused |
          lt::torrent_flags::sequential_download |
          lt::torrent_flags::upload_mode | lt::torrent_flags::share_mode |
          lt::torrent_flags::stop_when_ready);
    if (a->upload_limit > 0)
      atp.upload_limit = a->upload_limit;

    lt::error_code ec;
    lt::torrent_handle h = e->ses->add_torrent(std::move(atp), ec);
    if (ec) {
      set_cause(cause, "cannot add torrent: " + ec.message());
      return ec == lt::errors::duplicate_torrent ? -EEXIST : -EINVAL;
    }
    tor t;
    t.h = h;
    t.zero = a->zero_priorities;
    if (num_pieces >= 0) {
      t.num_pieces = num_pieces;
      t.prio.assign(size_t(num_pieces), a->zero_priorities ? 0 : 4);
    }
    e->by_handle[h] = key;
    e->torrents[key] = std::move(t);
    /* Connect now rather than at the next tick. */
    for (auto &ep : peers)
      h.connect_peer(ep);
    return 0;
  } catch (std::bad_alloc &) {
    set_cause(cause, "out of memory adding the torrent");
    return -ENOMEM;
  } catch (std::exception &ex) {
    set_cause(cause, std::string("cannot add torrent: ") + ex.what());
    return -EIO;
  } catch (...) {
    set_cause(cause, "cannot add torrent");
    return -EIO;
  }
}

/* Runs F, turning what it throws into -ENOMEM or -EIO: no exception
 * crosses into C. */
template <class F> int guarded(F &&f) {
  try {
    return f();
  } catch (std::bad_alloc &) {
    return -ENOMEM;
  } catch (...) {
    return -EIO;
  }
}

/* The torrent IH as *OUT: 0, or -ENOENT when unknown. */
static int target(rg_engine *e, const uint8_t ih[20], tor **out) {
  *out = find_tor(e, ih);
  return *out ? 0 : -ENOENT;
}

/* The torrent a priority or deadline call aims at: 0 with *OUT set, 1 when
 * there is nothing to do (every piece is here), -ENOENT, -EAGAIN (no
 * metadata yet), or -EINVAL when PIECE (unless -1) is out of range.
 * A torrent that has every piece drops its piece picker, and libtorrent
 * 2.0.8 can crash on deadline and priority calls that reach it then. */
static int picker_target(rg_engine *e, const uint8_t ih[20], int piece,
                         tor **out) {
  int rc = target(e, ih, out);
  if (rc)
    return rc;
  if (!ensure_meta(**out))
    return -EAGAIN;
  if ((*out)->h.status(lt::status_flags_t{}).is_seeding)
    return 1;
  if (piece != -1 && (piece < 0 || piece >= (*out)->num_pieces))
    return -EINVAL;
  return 0;
}

extern "C" int rg_engine_remove(rg_engine *e, const uint8_t ih[20],
                                bool delete_files) {
  return guarded([&] {
    tor *t;
    if (int rc = target(e, ih, &t))
      return rc;
    lt::torrent_handle h = t->h;
    e->torrents.erase(key_of(ih));
    e->ses->remove_torrent(h, delete_files ? lt::session::delete_files
                                           : lt::remove_flags_t{});
    return 0;
  });
}

extern "C" bool rg_engine_has(rg_engine *e, const uint8_t ih[20]) {
  try {
    return find_tor(e, ih) != nullptr;
  } catch (...) {
    return false;
  }
}

extern "C" int rg_engine_get_info(rg_engine *e, const uint8_t ih[20],
                                  uint8_t **buf, size_t *len) {
  return guarded([&] {
    tor *t;
    if (int rc = target(e, ih, &t))
      return rc;
    std::shared_ptr<const lt::torrent_info> ti = t->h.torrent_file();
    if (!ti || !ti->is_valid())
      return -EAGAIN;
    lt::span<char const> s = ti->info_section();
    if (s.empty())
      return -EAGAIN;
    uint8_t *p = static_cast<uint8_t *>(malloc(size_t(s.size())));
    if (!p)
      return -ENOMEM;
    memcpy(p, s.data(), size_t(s.size()));
    *buf = p;
    *len = size_t(s.size());
    return 0;
  });
}

extern "C" int rg_engine_set_piece_priorities(rg_engine *e,
                                              const uint8_t ih[20],
                                              const uint8_t *prio, int n) {
  return guarded([&] {
    tor *t;
    int rc = picker_target(e, ih, -1, &t);
    if (rc)
      return rc > 0 ? 0 : rc;
    if (n != t->num_pieces || !prio)
      return -EINVAL;
    std::vector<lt::download_priority_t> v(static_cast<size_t>(n));
    for (int i = 0; i < n; i++) {
      uint8_t p = prio[i] > 7 ? 7 : prio[i];
      t->prio[size_t(i)] = p;
      v[size_t(i)] = lt::download_priority_t(p);
    }
    for (int d : t->deadlines)
      if (d >= 0 && d < n)
        v[size_t(d)] = lt::top_priority;
    t->h.prioritize_pieces(v);
    return 0;
  });
}

extern "C" int rg_engine_set_piece_deadline(rg_engine *e, const uint8_t ih[20],
                                            int piece, int ms) {
  return guarded([&] {
    tor *t;
    int rc = picker_target(e, ih, piece < 0 ? -2 : piece, &t);
    if (rc)
      return rc > 0 ? 0 : rc;
    t->deadlines.insert(piece);
    t->h.set_piece_deadline(lt::piece_index_t(piece), ms < 0 ? 0 : ms);
    return 0;
  });
}

extern "C" int rg_engine_reset_piece_deadline(rg_engine *e,
                                              const uint8_t ih[20], int piece) {
  return guarded([&] {
    tor *t;
    int rc = picker_target(e, ih, piece < 0 ? -2 : piece, &t);
    if (rc)
      return rc > 0 ? 0 : rc;
    t->deadlines.erase(piece);
    t->h.reset_piece_deadline(lt::piece_index_t(piece));
    /* libtorrent leaves priority 1 behind; put back the caller's. */
    t->h.piece_priority(lt::piece_index_t(piece),
                        lt::download_priority_t(t->prio[size_t(piece)]));
    return 0;
  });
}

extern "C" int rg_engine_have_piece(rg_engine *e, const uint8_t ih[20],
                                    int piece) {
  return guarded([&] {
    tor *t;
    if (int rc = target(e, ih, &t))
      return rc;
    if (!ensure_meta(*t))
      return 0;
    if (piece < 0 || piece >= t->num_pieces)
      return -EINVAL;
    return t->h.have_piece(lt::piece_index_t(piece)) ? 1 : 0;
  });
}

extern "C" int rg_engine_have_bitfield(rg_engine *e, const uint8_t ih[20],
                                       uint8_t **bits, size_t *len) {
  return guarded([&] {
    tor *t;
    if (int rc = target(e, ih, &t))
      return rc;
    if (!ensure_meta(*t))
      return -EAGAIN;
    lt::torrent_status st = t->h.status(lt::torrent_handle::query_pieces);
    size_t nb = size_t((t->num_pieces + 7) / 8);
    uint8_t *p = static_cast<uint8_t *>(calloc(nb ? nb : 1, 1));
    if (!p)
      return -ENOMEM;
    int have_n = st.pieces.size();
    for (int i = 0; i < t->num_pieces && i < have_n; i++)
      if (st.pieces.get_bit(lt::piece_index_t(i)))
        p[i / 8] |= uint8_t(0x80 >> (i % 8));
    *bits = p;
    *len = nb;
    return 0;
  });
}

extern "C" int rg_engine_add_peer(rg_engine *e, const uint8_t ih[20],
                                  const char *ip, int port) {
  return guarded([&] {
    tor *t;
    if (int rc = target(e, ih, &t))
      return rc;
    if (!ip || port <= 0 || port > 65535)
      return -EINVAL;
    lt::error_code ec;
    lt::address a = lt::make_address(ip, ec);
    if (ec)
      return -EINVAL;
    t->h.connect_peer(lt::tcp::endpoint(a, (unsigned short)port));
    return 0;
  });
}

extern "C" int rg_engine_add_sources(rg_engine *e, const uint8_t ih[20],
                                     const char *const *trackers,
                                     size_t ntrackers,
                                     const char *const *peers, size_t npeers) {
  return guarded([&] {
    tor *t;
    if (int rc = target(e, ih, &t))
      return rc;
    for (size_t i = 0; i < ntrackers; i++)
      if (trackers[i] && *trackers[i])
        t->h.add_tracker(lt::announce_entry(trackers[i]));
    for (size_t i = 0; i < npeers; i++) {
      lt::tcp::endpoint ep;
      if (peers[i] && parse_endpoint(peers[i], ep))
        t->h.connect_peer(ep);
    }
    if (ntrackers)
      t->h.force_reannounce();
    return 0;
  });
}

extern "C" int rg_engine_reannounce(rg_engine *e, const uint8_t ih[20]) {
  return guarded([&] {
    tor *t;
    if (int rc = target(e, ih, &t))
      return rc;
    t->h.force_reannounce();
    if (e->ses->is_dht_running())
      t->h.force_dht_announce();
    return 0;
  });
}

extern "C" int rg_engine_set_torrent_limits(rg_engine *e, const uint8_t ih[20],
                                            int download_bps,
                                            int max_connections) {
  return guarded([&] {
    tor *t;
    if (int rc = target(e, ih, &t))
      return rc;
    t->h.set_download_limit(download_bps > 0 ? download_bps : -1);
    t->h.set_max_connections(max_connections > 0 ? max_connections : -1);
    return 0;
  });
}

extern "C" int rg_engine_pause(rg_engine *e, const uint8_t ih[20],
                               bool paused) {
  return guarded([&] {
    tor *t;
    if (int rc = target(e, ih, &t))
      return rc;
    if (paused)
      t->h.pause();
    else
      t->h.resume();
    return 0;
  });
}

extern "C" int rg_engine_status(rg_engine *e, const uint8_t ih[20],
                                rg_tstatus *out) {
  return guarded([&] {
    tor *t;
    if (int rc = target(e, ih, &t))
      return rc;
    lt::torrent_status s = t->h.status();
    memset(out, 0, sizeof *out);
    out->state = map_state(s);
    out->has_metadata = s.has_metadata;
    out->peers = s.num_peers;
    out->seeds = s.num_seeds;
    out->download_rate = s.download_payload_rate;
    out->upload_rate = s.upload_payload_rate;
    out->total_done = s.total_done;
    out->total_download = s.total_payload_download;
    out->total_upload = s.total_payload_upload;
    out->num_pieces = s.num_pieces;
    if (s.errc)
      copy_msg(out->error, sizeof out->error, s.errc.message());
    return 0;
  });
}

extern "C" int rg_engine_file_progress(rg_engine *e, const uint8_t ih[20],
                                       int64_t *bytes, int n) {
  return guarded([&] {
    tor *t;
    if (int rc = target(e, ih, &t))
      return rc;
    if (!ensure_meta(*t))
      return -EAGAIN;
    std::vector<std::int64_t> v =
        t->h.file_progress(lt::torrent_handle::piece_granularity);
    if (!bytes || n != int(v.size()))
      return -EINVAL;
    for (int i = 0; i < n; i++)
      bytes[i] = v[size_t(i)];
    return 0;
  });
}

/* ---- metadata ---- */

extern "C" void rg_tinfo_free(rg_tinfo **tp) {
  if (!tp || !*tp)
    return;
  rg_tinfo *t = *tp;
  *tp = nullptr;
  free(t->name);
  for (int i = 0; t->files && i < t->nfiles; i++)
    free(t->files[i].path);
  free(t->files);
  free(t->info);
  for (int i = 0; t->trackers && i < t->ntrackers; i++)
    free(t->trackers[i]);
  free(t->trackers);
  free(t);
}

extern "C" rg_tinfo *rg_tinfo_parse(const uint8_t *buf, size_t len,
                                    char **cause) {
  rg_tinfo *t = nullptr;
  try {
    std::string err;
    std::shared_ptr<lt::torrent_info> ti = load_info(buf, len, err);
    if (!ti) {
      set_cause(cause, err);
      return nullptr;
    }
    t = static_cast<rg_tinfo *>(calloc(1, sizeof *t));
    if (!t)
      throw std::bad_alloc();
    key_t20 k = key_of(ti->info_hashes());
    memcpy(t->ih, k.data(), 20);
    t->name = dup_cstr(ti->name());
    const lt::file_storage &fs = ti->files();
    t->total_size = fs.total_size();
    t->piece_length = fs.piece_length();
    t->num_pieces = fs.num_pieces();
    t->nfiles = fs.num_files();
    t->files =
        static_cast<rg_tfile *>(calloc(size_t(t->nfiles), sizeof *t->files));
    if (!t->name || !t->files)
      throw std::bad_alloc();
    for (int i = 0; i < t->nfiles; i++) {
      lt::file_index_t fi(i);
      rg_tfile &f = t->files[i];
      f.path = dup_cstr(fs.file_path(fi));
      if (!f.path)
        throw std::bad_alloc();
      f.size = fs.file_size(fi);
      f.offset = fs.file_offset(fi);
      f.pad = bool(fs.file_flags(fi) & lt::file_storage::flag_pad_file);
    }
    lt::span<char const> s = ti->info_section();
    t->info_len = size_t(s.size());
    t->info = static_cast<uint8_t *>(malloc(t->info_len ? t->info_len : 1));
    if (!t->info)
      throw std::bad_alloc();
    memcpy(t->info, s.data(), t->info_len);
    const std::vector<lt::announce_entry> &tr = ti->trackers();
    if (!tr.empty()) {
      t->trackers = static_cast<char **>(calloc(tr.size(), sizeof(char *)));
      if (!t->trackers)
        throw std::bad_alloc();
      for (const lt::announce_entry &ae : tr) {
        char *u = dup_cstr(ae.url);
        if (!u)
          throw std::bad_alloc();
        t->trackers[t->ntrackers++] = u;
      }
    }
    return t;
  } catch (std::bad_alloc &) {
    set_cause(cause, "out of memory parsing the torrent");
  } catch (std::exception &ex) {
    set_cause(cause, std::string("invalid torrent: ") + ex.what());
  } catch (...) {
    set_cause(cause, "invalid torrent");
  }
  rg_tinfo_free(&t);
  return nullptr;
}

extern "C" int rg_engine_make_torrent(const char *path, int piece_size,
                                      const char *const *trackers,
                                      size_t ntrackers, uint8_t **torrent,
                                      size_t *len, char **cause) {
  try {
    if (!path || !*path) {
      set_cause(cause, "no path given");
      return -EINVAL;
    }
    if (piece_size != 0 &&
        (piece_size < 16384 || (piece_size & (piece_size - 1)) != 0)) {
      set_cause(cause, "piece size must be a power of two of at least 16384 "
                       "bytes (or 0 for automatic)");
      return -EINVAL;
    }
    char *rp = realpath(path, nullptr);
    if (!rp) {
      int err = errno;
      set_cause(cause, std::string(path) + ": " + strerror(err));
      return -err;
    }
    std::string full(rp);
    free(rp);
    std::string parent = full.substr(0, full.rfind('/'));
    if (parent.empty())
      parent = "/";
    lt::file_storage fs;
    lt::add_files(fs, full);
    if (fs.num_files() == 0 || fs.total_size() == 0) {
      set_cause(cause, std::string(path) + ": no data to share (empty)");
      return -EINVAL;
    }
    lt::create_torrent ct(fs, piece_size, lt::create_torrent::v1_only);
    for (size_t i = 0; i < ntrackers; i++)
      if (trackers && trackers[i] && *trackers[i])
        ct.add_tracker(trackers[i], 0);
    ct.set_creator("reelgate 0.1");
    lt::error_code ec;
    lt::set_piece_hashes(ct, parent, ec);
    if (ec) {
      set_cause(cause, std::string("hashing ") + path + ": " + ec.message());
      return -EIO;
    }
    std::vector<char> out = ct.generate_buf();
    uint8_t *p = static_cast<uint8_t *>(malloc(out.size()));
    if (!p) {
      set_cause(cause, "out of memory");
      return -ENOMEM;
    }
    memcpy(p, out.data(), out.size());
    *torrent = p;
    *len = out.size();
    return 0;
  } catch (std::bad_alloc &) {
    set_cause(cause, "out of memory making the torrent");
    return -ENOMEM;
  } catch (std::system_error &ex) {
    set_cause(cause,
              std::string("cannot make torrent of ") + path + ": " + ex.what());
    return -EIO;
  } catch (std::exception &ex) {
    set_cause(cause,
              std::string("cannot make torrent of ") + path + ": " + ex.what());
    return -EIO;
  } catch (...) {
    set_cause(cause, "cannot make torrent");
    return -EIO;
  }
}

/* ---- IP filter and port mapping (blocklist.c, portmap.c) ---- */

static lt::address range_addr(int family, const uint8_t *b) {
  if (family == 4)
    return lt::address_v4(lt::address_v4::bytes_type{{b[0], b[1], b[2], b[3]}});
  lt::address_v6::bytes_type v6;
  memcpy(v6.data(), b, 16);
  return lt::address_v6(v6);
}

/* Installs the blocklist's ranges plus every banned address as the session's
 * IP filter. Turns on the ip_block alerts counted in blocked_peers. */
static void apply_filter(rg_engine *e) {
  lt::ip_filter f = e->list_filter;
  for (const lt::address &a : e->banned)
    f.add_rule(a, a, lt::ip_filter::blocked);
  lt::settings_pack cur = e->ses->get_settings();
  int mask = cur.get_int(lt::settings_pack::alert_mask);
  if (!(mask & int(lt::alert_category::ip_block))) {
    lt::settings_pack sp;
    sp.set_int(lt::settings_pack::alert_mask,
               mask | int(lt::alert_category::ip_block));
    e->ses->apply_settings(std::move(sp));
  }
  e->ses->set_ip_filter(std::move(f));
}

extern "C" int rg_engine_set_ip_filter(rg_engine *e, const rg_ip_range *r,
                                       size_t n) {
  if (!e)
    return -EINVAL;
  try {
    lt::ip_filter f;
    for (size_t i = 0; i < n; i++)
      f.add_rule(range_addr(r[i].family, r[i].first),
                 range_addr(r[i].family, r[i].last), lt::ip_filter::blocked);
    e->list_filter = std::move(f);
    apply_filter(e);
    return 0;
  } catch (std::bad_alloc &) {
    return -ENOMEM;
  } catch (...) {
    return -EINVAL;
  }
}

extern "C" int64_t rg_engine_blocked_peers(rg_engine *e) {
  return e ? e->blocked_peers : 0;
}

extern "C" int64_t rg_engine_banned_peers(rg_engine *e) {
  return e ? int64_t(e->banned.size()) : 0;
}

static void note_portmap(rg_engine *e, lt::alert *a) {
  rg_portmap p;
  memset(&p, 0, sizeof p);
  lt::address local;
  if (auto *pa = lt::alert_cast<lt::portmap_alert>(a)) {
    p.mapping = static_cast<int>(pa->mapping);
    p.external_port = pa->external_port;
    snprintf(p.transport, sizeof p.transport, "%s",
             pa->map_transport == lt::portmap_transport::natpmp ? "natpmp"
                                                                 : "upnp");
    snprintf(p.protocol, sizeof p.protocol, "%s",
             pa->map_protocol == lt::portmap_protocol::udp ? "udp" : "tcp");
    local = pa->local_address;
  } else if (auto *pe = lt::alert_cast<lt::portmap_error_alert>(a)) {
    p.mapping = static_cast<int>(pe->mapping);
    snprintf(p.transport, sizeof p.transport, "%s",
             pe->map_transport == lt::portmap_transport::natpmp ? "natpmp"
                                                                 : "upnp");
    copy_msg(p.error, sizeof p.error, pe->error.message());
    local = pe->local_address;
  } else {
    return;
  }
  copy_msg(p.local, sizeof p.local, local.to_string());
  p.when_s = static_cast<int64_t>(time(nullptr));
  rg_info("port mapping (%s): %s", p.transport, a->message().c_str());
  for (rg_portmap &q : e->portmaps)
    if (q.mapping == p.mapping && strcmp(q.transport, p.transport) == 0 &&
        strcmp(q.local, p.local) == 0) {
      if (!p.protocol[0]) /* an error keeps the protocol we knew */
        memcpy(p.protocol, q.protocol, sizeof p.protocol);
      q = p;
      return;
    }
  if (e->portmaps.size() < 64)
    e->portmaps.push_back(p);
}

extern "C" int rg_engine_set_portmap(rg_engine *e, bool natpmp, bool upnp) {
  if (!e)
    return -EINVAL;
  try {
    lt::settings_pack sp;
    sp.set_bool(lt::settings_pack::enable_natpmp, natpmp);
    sp.set_bool(lt::settings_pack::enable_upnp, upnp);
    e->ses->apply_settings(std::move(sp));
    return 0;
  } catch (...) {
    return -EINVAL;
  }
}

extern "C" int rg_engine_set_listen(rg_engine *e, const char *bind, int port) {
  if (!e || port < 0 || port > 65535)
    return -EINVAL;
  try {
    std::string b = bind && *bind ? bind : "0.0.0.0";
    if (b.find(':') != std::string::npos && b[0] != '[')
      b = "[" + b + "]";
    lt::settings_pack sp;
    sp.set_str(lt::settings_pack::listen_interfaces,
               b + ":" + std::to_string(port));
    e->ses->apply_settings(std::move(sp));
    return 0;
  } catch (...) {
    return -EINVAL;
  }
}

extern "C" int rg_engine_portmaps(rg_engine *e, rg_portmap *out, int max) {
  if (!e)
    return 0;
  int n = static_cast<int>(e->portmaps.size());
  for (int i = 0; i < n && i < max; i++)
    out[i] = e->portmaps[size_t(i)];
  return n;
}

extern "C" void rg_sha256(const void *data, size_t len, uint8_t out[32]) {
  lt::hasher256 h(static_cast<const char *>(data), static_cast<int>(len));
  lt::sha256_hash d = h.final();
  memcpy(out, d.data(), 32);
}
