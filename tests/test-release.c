/* test-release.c — sync/release.c on real-world-style release names: movies,
 * episodes, season packs, anime, foreign releases, titles that look like
 * years, site prefixes and group tags. One check per name compares every
 * field; a mismatch prints what was parsed. */
#include "config.h"

#include "release.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

typedef struct rcase {
  const char *name;
  const char *title; /* NULL: the parse must fail */
  int year, season, episode, resolution;
  const char *source, *codec;
} rcase;

#define N -1 /* no season / episode */

/* clang-format off */
static const rcase cases[] = {
    /* movies */
    {"The.Matrix.1999.1080p.BluRay.x264-GROUP", "The Matrix", 1999, N, N, 1080, "bluray", "x264"},
    {"The.Matrix.1999.1080p.BluRay.x264-GROUP.mkv", "The Matrix", 1999, N, N, 1080, "bluray", "x264"},
    {"Inception (2010) [1080p] [BluRay] [5.1] [YTS.MX]", "Inception", 2010, N, N, 1080, "bluray", ""},
    {"Inception.2010.720p.BrRip.x264.YIFY.mp4", "Inception", 2010, N, N, 720, "bluray", "x264"},
    {"2001.A.Space.Odyssey.1968.2160p.UHD.BluRay.x265-TERMiNAL", "2001 A Space Odyssey", 1968, N, N, 2160, "bluray", "x265"},
    {"2001 A Space Odyssey 1968", "2001 A Space Odyssey", 1968, N, N, 0, "", ""},
    {"Blade Runner 2049 2017", "Blade Runner 2049", 2017, N, N, 0, "", ""},
    {"Blade.Runner.2049.2017.2160p.WEB-DL.DDP5.1.HEVC-GRP", "Blade Runner 2049", 2017, N, N, 2160, "web", "x265"},
    {"Blade Runner 2049.mkv", "Blade Runner 2049", 0, N, N, 0, "", ""},
    {"1917 2019", "1917", 2019, N, N, 0, "", ""},
    {"1917.2019.1080p.BluRay.x264-SPARKS", "1917", 2019, N, N, 1080, "bluray", "x264"},
    {"1917.mkv", "1917", 0, N, N, 0, "", ""},
    {"2012.2009.720p.BluRay.x264", "2012", 2009, N, N, 720, "bluray", "x264"},
    {"Wonder.Woman.1984.2020.1080p.HMAX.WEB-DL.DDP5.1.Atmos.x264-NOGRP", "Wonder Woman 1984", 2020, N, N, 1080, "web", "x264"},
    {"Dune.Part.Two.2024.2160p.WEB-DL.DDP5.1.Atmos.DV.HDR.H.265-FLUX", "Dune Part Two", 2024, N, N, 2160, "web", "x265"},
    {"Oppenheimer.2023.1080p.BluRay.DDP5.1.x265.10bit-GalaxyRG265", "Oppenheimer", 2023, N, N, 1080, "bluray", "x265"},
    {"Parasite (2019) [2160p] [4K] [BluRay] [5.1] [YTS.MX]", "Parasite", 2019, N, N, 2160, "bluray", ""},
    {"www.1TamilMV.com - Jailer (2023) Tamil HQ HDRip - 1080p - x264 - AAC - 2.5GB.mkv", "Jailer", 2023, N, N, 1080, "", "x264"},
    {"www.Torrenting.com   -    The.Holdovers.2023.720p.WEBRip.x264", "The Holdovers", 2023, N, N, 720, "web", "x264"},
    {"[ www.Speed.cd ] - Heat.1995.1080p.BluRay.x264", "Heat", 1995, N, N, 1080, "bluray", "x264"},
    {"Heat.1995.REMASTERED.1080p.BluRay.x264.DTS-FGT", "Heat", 1995, N, N, 1080, "bluray", "x264"},
    {"Alien.1979.Directors.Cut.1080p.BluRay.x264-AMIABLE", "Alien", 1979, N, N, 1080, "bluray", "x264"},
    {"Spider-Man.No.Way.Home.2021.1080p.WEBRip.x265", "Spider-Man No Way Home", 2021, N, N, 1080, "web", "x265"},
    {"Spider-Man.Across.the.Spider-Verse.2023.1080p.AMZN.WEB-DL.DDP5.1.H.264-FLUX", "Spider-Man Across the Spider-Verse", 2023, N, N, 1080, "web", "x264"},
    {"Mission.Impossible.Dead.Reckoning.Part.One.2023.2160p.iT.WEB-DL.DDP5.1.Atmos.DV.H.265-FLUX", "Mission Impossible Dead Reckoning Part One", 2023, N, N, 2160, "web", "x265"},
    {"The_Shawshank_Redemption_1994_1080p_BluRay", "The Shawshank Redemption", 1994, N, N, 1080, "bluray", ""},
    {"the shawshank redemption 1994 720p", "the shawshank redemption", 1994, N, N, 720, "", ""},
    {"Pulp Fiction (1994) 1080p BrRip x264 - 1.4GB - YIFY", "Pulp Fiction", 1994, N, N, 1080, "bluray", "x264"},
    {"Amelie.2001.FRENCH.1080p.BluRay.x264-GRP", "Amelie", 2001, N, N, 1080, "bluray", "x264"},
    {"Le.Fabuleux.Destin.d.Amelie.Poulain.2001.FRENCH.720p.BluRay.x264", "Le Fabuleux Destin d Amelie Poulain", 2001, N, N, 720, "bluray", "x264"},
    {"Das.Boot.1981.GERMAN.DL.1080p.BluRay.AVC.REMUX-GRP", "Das Boot", 1981, N, N, 1080, "bluray", "x264"},
    {"La.Casa.de.Papel.2017.SPANISH.1080p.NF.WEBRip.x264", "La Casa de Papel", 2017, N, N, 1080, "web", "x264"},
    {"Il.Postino.1994.iTALiAN.DVDRip.XviD", "Il Postino", 1994, N, N, 0, "dvd", ""},
    {"Crouching.Tiger.Hidden.Dragon.2000.CHINESE.1080p.BluRay.x264.DTS-FGT", "Crouching Tiger Hidden Dragon", 2000, N, N, 1080, "bluray", "x264"},
    {"Amélie.2001.1080p.BluRay.x264", "Amélie", 2001, N, N, 1080, "bluray", "x264"},
    {"Léon.The.Professional.1994.Extended.1080p.BluRay.x264", "Léon The Professional", 1994, N, N, 1080, "bluray", "x264"},
    {"千と千尋の神隠し.2001.1080p.BluRay.x264", "千と千尋の神隠し", 2001, N, N, 1080, "bluray", "x264"},
    {"Spirited.Away.2001.1080p.BluRay.x264.DTS-WiKi", "Spirited Away", 2001, N, N, 1080, "bluray", "x264"},
    {"Avatar.The.Way.of.Water.2022.2160p.UHD.BluRay.REMUX.HDR.HEVC.Atmos-TRiToN", "Avatar The Way of Water", 2022, N, N, 2160, "bluray", "x265"},
    {"Avatar.2009.Extended.Collectors.Edition.1080p.BluRay.x264", "Avatar", 2009, N, N, 1080, "bluray", "x264"},
    {"Joker.2019.4K.HDR.2160p.BDRip.Ita.Eng.x265-NAHOM", "Joker", 2019, N, N, 2160, "bluray", "x265"},
    {"Top Gun Maverick (2022) 2160p UHD BluRay AV1 Opus-GRP", "Top Gun Maverick", 2022, N, N, 2160, "bluray", "av1"},
    {"Everything.Everywhere.All.at.Once.2022.1080p.WEB-DL.DD5.1.H.264", "Everything Everywhere All at Once", 2022, N, N, 1080, "web", "x264"},
    {"Oldboy.2003.KOREAN.1080p.BluRay.H264.AAC-VXT", "Oldboy", 2003, N, N, 1080, "bluray", "x264"},
    {"Taxi Driver 1976 720p BRRip AAC", "Taxi Driver", 1976, N, N, 720, "bluray", ""},
    {"Casablanca.1942.480p.DVDRip.XviD", "Casablanca", 1942, N, N, 480, "dvd", ""},
    {"Metropolis.1927.RESTORED.720p.BluRay.x264", "Metropolis", 1927, N, N, 720, "bluray", "x264"},
    {"Big Buck Bunny", "Big Buck Bunny", 0, N, N, 0, "", ""},
    {"big_buck_bunny_1080p_h264.mov", "big buck bunny", 0, N, N, 1080, "", "x264"},
    {"Sintel.2010.1080p.mkv", "Sintel", 2010, N, N, 1080, "", ""},
    {"Tears.of.Steel.2012.4K.mp4", "Tears of Steel", 2012, N, N, 2160, "", ""},
    {"The Movie (2015).avi", "The Movie", 2015, N, N, 0, "", ""},
    {"The.Movie.2015.HDTV.x264", "The Movie", 2015, N, N, 0, "hdtv", "x264"},
    {"Movie.Title.2018.1920x1080.WEB.x264", "Movie Title", 2018, N, N, 1080, "web", "x264"},
    {"Movie.Title.2018.1280x720.HDTV", "Movie Title", 2018, N, N, 720, "hdtv", ""},
    {"Charlottes.Web.2006.1080p.BluRay", "Charlottes Web", 2006, N, N, 1080, "bluray", ""},
    {"Charlotte's Web", "Charlotte's Web", 0, N, N, 0, "", ""},
    {"Fahrenheit.451.2018.720p.WEBRip", "Fahrenheit 451", 2018, N, N, 720, "web", ""},
    {"Ocean's.Eleven.2001.1080p.BluRay.x264", "Ocean's Eleven", 2001, N, N, 1080, "bluray", "x264"},
    {"Se7en.1995.REMASTERED.1080p.BluRay.x264", "Se7en", 1995, N, N, 1080, "bluray", "x264"},
    {"Toy.Story.3.2010.1080p.BluRay.x264", "Toy Story 3", 2010, N, N, 1080, "bluray", "x264"},
    {"Apollo 13 (1995) 1080p", "Apollo 13", 1995, N, N, 1080, "", ""},
    {"The.Movie.2019.PROPER.1080p.WEB.H264-GRP", "The Movie", 2019, N, N, 1080, "web", "x264"},
    {"Dune.2021.IMAX.2160p.WEB-DL.x265.10bit.HDR", "Dune", 2021, N, N, 2160, "web", "x265"},
    {"Gladiator.2000.UNRATED.1080p.BluRay.x264", "Gladiator", 2000, N, N, 1080, "bluray", "x264"},
    {"Some.Film.2011.DVD5.PAL", "Some Film", 2011, N, N, 0, "dvd", ""},
    {"Title.1999.CAM.XviD", "Title", 1999, N, N, 0, "", ""},
    {"[YTS.MX] The.Matrix.1999.mkv", "The Matrix", 1999, N, N, 0, "", ""},
    {"[HorribleSubs] Akira (1988) [1080p].mkv", "Akira", 1988, N, N, 1080, "", ""},
    /* episodes */
    {"Breaking.Bad.S01E02.720p.BluRay.x264-DEMAND", "Breaking Bad", 0, 1, 2, 720, "bluray", "x264"},
    {"Breaking.Bad.S05E16.1080p.BluRay.x265.mkv", "Breaking Bad", 0, 5, 16, 1080, "bluray", "x265"},
    {"breaking.bad.s1e2.hdtv", "breaking bad", 0, 1, 2, 0, "hdtv", ""},
    {"Breaking Bad 1x02 Cats in the Bag", "Breaking Bad", 0, 1, 2, 0, "", ""},
    {"Doctor.Who.2005.S01E01.Rose.720p.BluRay", "Doctor Who", 2005, 1, 1, 720, "bluray", ""},
    {"The.Office.US.S02E01.The.Dundies.720p.WEB-DL", "The Office US", 0, 2, 1, 720, "web", ""},
    {"The Office (US) S02E01 The Dundies 1080p", "The Office US", 0, 2, 1, 1080, "", ""},
    {"Game.of.Thrones.S08E06.The.Iron.Throne.1080p.AMZN.WEB-DL.DDP5.1.H.264-GoT", "Game of Thrones", 0, 8, 6, 1080, "web", "x264"},
    {"Game of Thrones - S08E06 - The Iron Throne.mkv", "Game of Thrones", 0, 8, 6, 0, "", ""},
    {"Stranger.Things.S04E01E02.1080p.NF.WEB-DL", "Stranger Things", 0, 4, 1, 1080, "web", ""},
    {"Stranger.Things.S04E01-E02.2160p.NF.WEB-DL.x265", "Stranger Things", 0, 4, 1, 2160, "web", "x265"},
    {"Show.Name.S01.E03.720p", "Show Name", 0, 1, 3, 720, "", ""},
    {"Show_Name_S10E100_720p", "Show Name", 0, 10, 100, 720, "", ""},
    {"The.Mandalorian.S03E08.2160p.DSNP.WEB-DL.DDP5.1.Atmos.DV.H.265-FLUX", "The Mandalorian", 0, 3, 8, 2160, "web", "x265"},
    {"Marvels.Agents.of.S.H.I.E.L.D.S01E01.720p.HDTV.X264-DIMENSION", "Marvels Agents of S.H.I.E.L.D", 0, 1, 1, 720, "hdtv", "x264"},
    {"House.of.the.Dragon.2022.S02E03.1080p.WEB.h264-ETHEL", "House of the Dragon", 2022, 2, 3, 1080, "web", "x264"},
    {"Battlestar Galactica (2004) - S01E01 - 33", "Battlestar Galactica", 2004, 1, 1, 0, "", ""},
    {"Shogun.2024.S01E01.Anjin.1080p.DSNP.WEB-DL", "Shogun", 2024, 1, 1, 1080, "web", ""},
    {"Dark.S01E01.GERMAN.1080p.WEBRip.x265", "Dark", 0, 1, 1, 1080, "web", "x265"},
    {"Lupin.S01E01.FRENCH.1080p.NF.WEB-DL", "Lupin", 0, 1, 1, 1080, "web", ""},
    {"Casa.de.Papel.S03E05.SPANISH.720p", "Casa de Papel", 0, 3, 5, 720, "", ""},
    {"Squid.Game.S01E01.KOREAN.1080p.NF.WEBRip.DDP5.1.x264-GRP", "Squid Game", 0, 1, 1, 1080, "web", "x264"},
    {"9-1-1.S05E01.720p.HDTV.x264-SYNCOPY", "9-1-1", 0, 5, 1, 720, "hdtv", "x264"},
    {"24.S01E01.720p.BluRay", "24", 0, 1, 1, 720, "bluray", ""},
    {"1923.S01E01.1080p.WEB.H264", "1923", 0, 1, 1, 1080, "web", "x264"},
    {"The.Simpsons.S35E01.1080p.WEB.h264", "The Simpsons", 0, 35, 1, 1080, "web", "x264"},
    {"Seinfeld.S09E23-24.The.Finale.720p", "Seinfeld", 0, 9, 23, 720, "", ""},
    {"Show.Name.Season.1.Episode.2.720p", "Show Name", 0, 1, 2, 720, "", ""},
    {"Friends.10x17.The.Last.One.DVDRip", "Friends", 0, 10, 17, 0, "dvd", ""},
    {"friends.s10e17e18.720p.bluray", "friends", 0, 10, 17, 720, "bluray", ""},
    {"Sherlock.S04E03.The.Final.Problem.1080p.BluRay.x264-SHORTBREHD.mkv", "Sherlock", 0, 4, 3, 1080, "bluray", "x264"},
    {"Westworld S01E01 720p HDTV x264-AVS [eztv].mkv", "Westworld", 0, 1, 1, 720, "hdtv", "x264"},
    {"Fargo.S01E01.720p.HDTV.x264-2HD[rartv]", "Fargo", 0, 1, 1, 720, "hdtv", "x264"},
    {"Severance.S02E01.1080p.ATVP.WEB-DL.DDP5.1.H.264-NTb[TGx]", "Severance", 0, 2, 1, 1080, "web", "x264"},
    {"S01E02.mkv", NULL, 0, 1, 2, 0, "", ""},
    {"Show.E05.720p", "Show", 0, 1, 5, 720, "", ""},
    /* season packs */
    {"Breaking.Bad.S01.1080p.BluRay.x264-GRP", "Breaking Bad", 0, 1, N, 1080, "bluray", "x264"},
    {"Breaking Bad Season 1 Complete 720p", "Breaking Bad", 0, 1, N, 720, "", ""},
    {"The.Wire.S01-S05.COMPLETE.720p.BluRay.x264", "The Wire", 0, 1, N, 720, "bluray", "x264"},
    {"The Sopranos Season 1-6 Complete", "The Sopranos", 0, 1, N, 0, "", ""},
    {"Dark.Staffel.2.GERMAN.1080p", "Dark", 0, 2, N, 1080, "", ""},
    {"Peaky.Blinders.S06.COMPLETE.720p.NF.WEBRip.x264-GalaxyTV[TGx]", "Peaky Blinders", 0, 6, N, 720, "web", "x264"},
    {"Chernobyl.2019.S01.2160p.UHD.BluRay.x265", "Chernobyl", 2019, 1, N, 2160, "bluray", "x265"},
    /* anime */
    {"[SubsPlease] Frieren - 12 (1080p) [ABCD1234].mkv", "Frieren", 0, 1, 12, 1080, "", ""},
    {"[SubsPlease] Sousou no Frieren - 28 (720p) [5D3A1F0E].mkv", "Sousou no Frieren", 0, 1, 28, 720, "", ""},
    {"[Erai-raws] One Piece - 1089 [1080p][Multiple Subtitle].mkv", "One Piece", 0, 1, 1089, 1080, "", ""},
    {"[HorribleSubs] Shingeki no Kyojin - 25v2 [720p].mkv", "Shingeki no Kyojin", 0, 1, 25, 720, "", ""},
    {"[Judas] Jujutsu Kaisen - S02E01 [1080p][HEVC x265 10bit].mkv", "Jujutsu Kaisen", 0, 2, 1, 1080, "", "x265"},
    {"[Group] Cowboy Bebop - 01 [BD 1080p][E1A2B3C4].mkv", "Cowboy Bebop", 0, 1, 1, 1080, "bluray", ""},
    {"Cowboy Bebop - 05 - Ballad of Fallen Angels.mkv", "Cowboy Bebop", 0, 1, 5, 0, "", ""},
    {"[ASW] Kimi no Na wa (2016) [1080p HEVC].mkv", "Kimi no Na wa", 2016, N, N, 1080, "", "x265"},
    /* odd input */
    {"", NULL, 0, N, N, 0, "", ""},
    {"....", NULL, 0, N, N, 0, "", ""},
    {"1080p.BluRay.x264", NULL, 0, N, N, 1080, "bluray", "x264"},
    {"[YTS.MX]", NULL, 0, N, N, 0, "", ""},
    {"dir/sub/The.Matrix.1999.mkv", "The Matrix", 1999, N, N, 0, "", ""},
    {"Movie.Name.2099.1080p", "Movie Name 2099", 0, N, N, 1080, "", ""},
    {"Movie.Name.1899.1080p", "Movie Name 1899", 0, N, N, 1080, "", ""},
    {"1080.Movie.2019", "1080 Movie", 2019, N, N, 0, "", ""},
    {"Star.Wars.Episode.IV.A.New.Hope.1977.1080p", "Star Wars Episode IV A New Hope", 1977, N, N, 1080, "", ""},
};
/* clang-format on */

static bool same(const rcase *c, const rg_release *r, bool parsed) {
  if (!c->title)
    return !parsed;
  return parsed && strcmp(r->title, c->title) == 0 && r->year == c->year &&
         r->season == c->season && r->episode == c->episode &&
         r->resolution == c->resolution && strcmp(r->source, c->source) == 0 &&
         strcmp(r->codec, c->codec) == 0;
}

static void test_table(void) {
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const rcase *c = &cases[i];
    rg_release r;
    bool parsed = rg_release_parse(c->name, &r);
    bool good = same(c, &r, parsed);
    ok(good, "%s", c->name);
    if (!good)
      printf("#   got %s title '%s' year %d S%d E%d res %d source '%s' codec "
             "'%s'\n",
             parsed ? "parsed" : "FAILED", r.title, r.year, r.season, r.episode,
             r.resolution, r.source, r.codec);
  }
}

static void test_limits(void) {
  /* a huge name: bounded work, title cut at a UTF-8 boundary */
  size_t n = 5000;
  char *big = malloc(n + 1);
  for (size_t i = 0; i < n; i += 2) {
    big[i] = (char)0xC3; /* é */
    big[i + 1] = (char)0xA9;
  }
  big[n] = 0;
  rg_release r;
  ok(rg_release_parse(big, &r), "a 5000-byte name parses");
  size_t tl = strlen(r.title);
  ok(tl < sizeof r.title && tl % 2 == 0, "title cut between UTF-8 sequences");
  free(big);

  /* many tokens */
  char many[2048] = "";
  for (int i = 0; i < 300; i++)
    strcat(many, "a.");
  ok(rg_release_parse(many, &r), "300 tokens");

  ok(!rg_release_parse(NULL, &r) && r.season == -1 && r.episode == -1,
     "NULL name fails with no season/episode");
}

int main(void) {
  test_table();
  test_limits();
  return tap_done();
}
