#!/usr/bin/env python3
"""fake_services.py — loopback stand-ins for TMDB, Prowlarr, Torznab,
Torrentio, Plex (watchlist + refresh), Jellyfin and a tiny HTTP tracker,
replaying the recorded formats in tests/fixtures/sync/.

usage: fake_services.py FIXTURES_DIR STATE_JSON PORTFILE

STATE_JSON is re-read on every request, so a test changes the scenario by
rewriting it (atomically):
  {"movies": [{"id", "title", "year", "imdb"}],
   "shows": [{"id", "name", "year", "imdb", "episodes": N}],
   "prowlarr": {"tt…": [{"title", "magnet", "hash", "seeders", "size"}]},
   "torrentio": {"tt…" or "tt…:S:E": [{"title", "hash", "seeders", "size"}]},
   "torznab": {"tt…": [...]},
   "peers": {"<hex hash>": "127.0.0.2:6881"},
   "watchlist": [{"key", "title", "year", "type", "imdb"}],
   "switches": {"prowlarr_down": bool, "tmdb_invalid_key": bool,
                "tmdb_malformed": "truncated" | "garbage" | "",
                "prowlarr_malformed": bool, "tmdb_slow_s": float}}
GET /_hits returns request counters per service. Binds 127.0.0.1 only;
exits when its parent (the test) is gone."""
import copy, json, os, sys, threading, time, urllib.parse
import http.server

FIX, STATE, PORTFILE = sys.argv[1], sys.argv[2], sys.argv[3]
HITS = {}
LOCK = threading.Lock()


def fixture(path):
    with open(os.path.join(FIX, path), 'rb') as f:
        return json.loads(f.read())


def state():
    try:
        with open(STATE) as f:
            return json.load(f)
    except Exception:
        return {}


def bencode(v):
    if isinstance(v, int):
        return b'i%de' % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b'%d:%s' % (len(v), v)
    if isinstance(v, list):
        return b'l' + b''.join(bencode(x) for x in v) + b'e'
    if isinstance(v, dict):
        return b'd' + b''.join(bencode(k) + bencode(v[k]) for k in sorted(v)) + b'e'
    raise TypeError(v)


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *a):
        sys.stderr.write('%s %s\n' % (self.command, self.path.split('?')[0]))

    def hit(self, name):
        with LOCK:
            HITS[name] = HITS.get(name, 0) + 1

    def send(self, code, body, ctype='application/json', headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get('Content-Length') or 0)
        if n:
            self.rfile.read(n)
        u = urllib.parse.urlsplit(self.path)
        if u.path == '/jellyfin/Library/Refresh':
            self.hit('jellyfin_refresh')
            ok = self.headers.get('X-Emby-Token') == 'jf-key'
            return self.send(204 if ok else 401, b'')
        self.send(404, {'error': 'no such route'})

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        st = state()
        sw = st.get('switches', {})
        p = u.path
        if p == '/_hits':
            with LOCK:
                return self.send(200, dict(HITS))
        if p.startswith('/tmdb/3/'):
            return self.tmdb(p[len('/tmdb/3'):], q, st, sw)
        if p == '/prowlarr/api/v1/search':
            return self.prowlarr(q, st, sw)
        if p.startswith('/prowlarr/dl/'):
            self.hit('prowlarr_dl')
            i = int(p.rsplit('/', 1)[1])
            links = [r for rs in st.get('prowlarr', {}).values() for r in rs]
            if i >= len(links):
                return self.send(404, {'message': 'gone'})
            r = links[i]
            if r.get('torrent_file'):
                with open(r['torrent_file'], 'rb') as f:
                    return self.send(200, f.read(), 'application/x-bittorrent')
            return self.send(301, b'', 'text/plain', {'Location': r['magnet']})
        if p.startswith('/torrentio/stream/'):
            return self.torrentio(p, st, sw)
        if p == '/torznab/api':
            return self.torznab(q, st, sw)
        if p.startswith('/plex/'):
            return self.plex(p[len('/plex'):], st)
        if p == '/announce':
            return self.announce(u.query, st)
        self.send(404, {'error': 'no such route'})

    # ---- TMDB ----
    def tmdb(self, p, q, st, sw):
        self.hit('tmdb')
        if sw.get('tmdb_slow_s'):
            time.sleep(float(sw['tmdb_slow_s']))
        if sw.get('tmdb_invalid_key') or q.get('api_key') != 'tmdb-good-key':
            return self.send(401, fixture('tmdb/error_invalid_key.json'))
        bad = sw.get('tmdb_malformed')
        if bad == 'truncated':
            body = json.dumps(fixture('tmdb/movie_popular.page1.json'))
            return self.send(200, body[:len(body) // 2])
        if bad == 'garbage':
            return self.send(200, '<html>502 Bad Gateway</html>', 'text/html')
        movies = st.get('movies', [])
        shows = st.get('shows', [])
        if p in ('/movie/popular', '/trending/movie/week', '/discover/movie',
                 '/movie/now_playing'):
            tpl = fixture('tmdb/movie_popular.page1.json')
            item = tpl['results'][0]
            res = []
            for m in movies:
                r = copy.deepcopy(item)
                r.update(id=m['id'], title=m['title'], original_title=m['title'],
                         release_date='%d-06-01' % m['year'])
                res.append(r)
            tpl['results'] = res if q.get('page', '1') == '1' else []
            tpl['total_results'] = len(res)
            return self.send(200, tpl)
        if p in ('/search/movie', '/search/tv'):
            want = q.get('query', '').lower()
            year = q.get('year') or q.get('first_air_date_year')
            pool = movies if p == '/search/movie' else shows
            res = [{'id': x['id'], 'title': x.get('title', x.get('name')),
                    'name': x.get('name', x.get('title')),
                    'release_date': '%d-06-01' % x.get('year', 2000)}
                   for x in pool
                   if x.get('title', x.get('name', '')).lower() == want
                   and (not year or str(x.get('year')) == str(year))]
            return self.send(200, {'page': 1, 'results': res,
                                   'total_pages': 1, 'total_results': len(res)})
        if p in ('/tv/popular', '/trending/tv/week'):
            return self.send(200, {'page': 1, 'results': [
                {'id': s['id'], 'name': s['name']} for s in shows],
                'total_pages': 1, 'total_results': len(shows)})
        parts = p.strip('/').split('/')
        if len(parts) == 3 and parts[0] == 'movie' and parts[2] == 'external_ids':
            for m in movies:
                if str(m['id']) == parts[1]:
                    r = fixture('tmdb/movie_550_external_ids.json')
                    r.update(id=m['id'], imdb_id=m['imdb'])
                    return self.send(200, r)
            return self.send(404, {'status_code': 34, 'success': False,
                                   'status_message': 'The resource you requested could not be found.'})
        if parts[0] == 'find':
            r = fixture('tmdb/find_tt_imdb.json')
            r['movie_results'] = [dict(r['movie_results'][0], id=m['id'], title=m['title'])
                                  for m in movies if m['imdb'] == parts[1]]
            r['tv_results'] = [{'id': s['id'], 'name': s['name']}
                               for s in shows if s['imdb'] == parts[1]]
            return self.send(200, r)
        if parts[0] == 'tv' and len(parts) >= 2:
            s = next((s for s in shows if str(s['id']) == parts[1]), None)
            if not s:
                return self.send(404, {'success': False, 'status_message': 'not found'})
            if len(parts) == 2:
                r = fixture('tmdb/tv_1399.json')
                r.update(id=s['id'], name=s['name'], first_air_date='%d-04-17' % s['year'])
                r['external_ids']['imdb_id'] = s['imdb']
                r['seasons'] = [dict(r['seasons'][0], season_number=1,
                                     episode_count=s['episodes'])]
                return self.send(200, r)
            r = fixture('tmdb/tv_1399_season_1.json')
            ep = r['episodes'][0]
            r['episodes'] = [dict(ep, episode_number=i + 1, show_id=s['id'])
                             for i in range(s['episodes'])]
            return self.send(200, r)
        return self.send(404, {'success': False, 'status_message': 'unknown path ' + p})

    # ---- Prowlarr ----
    def prowlarr(self, q, st, sw):
        self.hit('prowlarr')
        if sw.get('prowlarr_down'):
            return self.send(503, '<html>Service Unavailable</html>', 'text/html')
        if self.headers.get('X-Api-Key') != 'prowlarr-key':
            return self.send(401, {'message': 'Unauthorized'})
        if sw.get('prowlarr_malformed'):
            return self.send(200, '[{"title": "The.Matrix', 'application/json')
        query = q.get('query', '')
        tt = query.split('ImdbId:')[1].split('}')[0] if 'ImdbId:' in query else ''
        tpl = fixture('prowlarr/search_movie_tt0133093.json')[0]
        out = []
        links = [r for rs in st.get('prowlarr', {}).values() for r in rs]
        for r in st.get('prowlarr', {}).get(tt, []):
            x = copy.deepcopy(tpl)
            i = links.index(r)
            x.update(title=r['title'], seeders=r.get('seeders', 50),
                     size=r.get('size', 2630667520), imdbId=int(tt[2:] or 0),
                     infoHash=r.get('hash'),
                     magnetUrl=None if r.get('torrent_file') else
                     'http://127.0.0.1:%d/prowlarr/dl/%d' % (self.server.server_port, i),
                     downloadUrl='http://127.0.0.1:%d/prowlarr/dl/%d' % (self.server.server_port, i)
                     if r.get('torrent_file') else None)
            out.append(x)
        return self.send(200, out)

    # ---- Torrentio ----
    def torrentio(self, p, st, sw):
        self.hit('torrentio')
        ident = urllib.parse.unquote(p.rsplit('/', 1)[1])[:-len('.json')]
        tpl = fixture('torrentio/stream_movie_tt0250494.json')
        s0 = tpl['streams'][0]
        streams = []
        for r in st.get('torrentio', {}).get(ident, []):
            x = copy.deepcopy(s0)
            x['title'] = '%s\n\U0001F464 %d \U0001F4BE %s \u2699\uFE0F FakeTracker' % (
                r['title'], r.get('seeders', 50), r.get('size', '2.1 GB'))
            x['infoHash'] = r['hash']
            x['behaviorHints'] = {'filename': r['title'] + '.mkv'}
            x['sources'] = ['tracker:http://127.0.0.1:%d/announce' % self.server.server_port,
                            'dht:' + r['hash']]
            streams.append(x)
        tpl['streams'] = streams
        return self.send(200, tpl)

    # ---- Torznab ----
    def torznab(self, q, st, sw):
        self.hit('torznab')
        if q.get('apikey') != 'torznab-key':
            return self.send(401, '<?xml version="1.0"?><error code="100" description="Invalid API Key" />',
                             'application/xml')
        with open(os.path.join(FIX, 'torznab/jackett_search.xml')) as f:
            xml = f.read()
        head, rest = xml.split('<item>', 1)
        item, tail = rest.split('</item>', 1)
        items = ''
        for r in st.get('torznab', {}).get(q.get('imdbid', ''), []):
            it = item.replace('Series Title S05E02 HDTV x264-Xclusive [eztv]', r['title'])
            it = it.replace('9fb267cff5ae5603f07a347676ec3bf3e35f75e1', r['hash'])
            it = it.replace('value="34128"', 'value="%d"' % r.get('seeders', 50))
            it = it.replace('388895872', str(r.get('size', 2000000000)))
            # the fixture's tracker is on the internet: point at ours
            trk = urllib.parse.quote('http://127.0.0.1:%d/announce' % self.server.server_port, safe='')
            it = it.replace('udp:%2F%2Fopen.demonii.com:1337', trk)
            it = it.replace('&amp;dn=Series+Title+S05E02"', '&amp;dn=Series+Title+S05E02&amp;tr=%s"' % trk)
            # as Jackett does, the magnet's display name is the release's
            it = it.replace('dn=Series+Title+S05E02', 'dn=' + urllib.parse.quote_plus(r['title']))
            items += '<item>' + it + '</item>'
        return self.send(200, head + items + tail, 'application/rss+xml')

    # ---- Plex ----
    def plex(self, p, st):
        self.hit('plex')
        if self.headers.get('X-Plex-Token') != 'plex-token':
            return self.send(401, {'errors': [{'message': 'unauthorized'}]})
        if p.startswith('/library/sections/') and p.endswith('/refresh'):
            self.hit('plex_refresh')
            return self.send(200, b'')
        wl = st.get('watchlist', [])
        if p == '/library/sections/watchlist/all':
            r = fixture('plex/watchlist_all.json')
            tpl = r['MediaContainer']['Metadata'][0]
            r['MediaContainer']['Metadata'] = [dict(tpl, ratingKey=w['key'], title=w['title'],
                                                    year=w['year'], type=w['type'])
                                               for w in wl]
            r['MediaContainer']['size'] = len(wl)
            return self.send(200, r)
        if p.startswith('/library/metadata/'):
            key = p.rsplit('/', 1)[1]
            w = next((w for w in wl if w['key'] == key), None)
            if not w:
                return self.send(404, {'errors': []})
            r = fixture('plex/metadata_5d776883ebdf2200209c104e.json')
            m = r['MediaContainer']['Metadata'][0]
            m.update(ratingKey=key, title=w['title'], year=w['year'], type=w['type'])
            m['Guid'] = [{'id': 'imdb://' + w['imdb']}] if w.get('imdb') else []
            return self.send(200, r)
        return self.send(404, {'errors': []})

    # ---- a tracker for Torrentio's magnets ----
    def announce(self, query, st):
        self.hit('announce')
        ih = None
        for part in query.split('&'):
            if part.startswith('info_hash='):
                ih = urllib.parse.unquote_to_bytes(part[10:]).hex()
        peers = b''
        pe = st.get('peers', {}).get(ih or '')
        if pe:
            host, port = pe.rsplit(':', 1)
            peers = bytes(int(x) for x in host.split('.')) + int(port).to_bytes(2, 'big')
        return self.send(200, bencode({'interval': 30, 'peers': peers}), 'text/plain')


def orphan_watch(parent):
    """Exits once the test that started us is gone (even SIGKILLed, when
    its EXIT trap cannot run): a re-parented fake must not linger."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


threading.Thread(target=orphan_watch, args=(os.getppid(),), daemon=True).start()
srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
srv.daemon_threads = True
with open(PORTFILE + '.tmp', 'w') as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + '.tmp', PORTFILE)
srv.serve_forever()
