/* test-rank.c — release names (real-world style) → quality attributes, and
 * the ladder: tiers, rejected kinds, languages, seeders, size bounds,
 * scores and upgrade margins. */
#include "config.h"

#include "rank.h"
#include "tap.h"

#include <stdlib.h>

typedef struct row {
  const char *name, *title;
  int year, season, episode, res;
  const char *source;
  int remux, hdr;
  const char *langs, *rejected;
  int tier; /* 1-based tier under the default ladder with 100 seeders; 0 =
               not accepted */
} row;

static const row rows[] = {
    {"The.Matrix.1999.1080p.BluRay.x264-GRP", "The Matrix", 1999, -1, -1, 1080,
     "bluray", 0, 0, "", NULL, 6},
    {"The.Matrix.1999.2160p.UHD.BluRay.REMUX.DV.HDR.HEVC.TrueHD.Atmos.7.1-GRP",
     "The Matrix", 1999, -1, -1, 2160, "bluray", 1, 3, "", NULL, 1},
    {"K-PAX 2001 720p BluRay", "K-PAX", 2001, -1, -1, 720, "bluray", 0, 0, "",
     NULL, 0},
    {"K-PAX.2001.2160p.UHD.BluRay.REMUX.DV.HDR.HEVC.Atmos-GRP", "K-PAX", 2001,
     -1, -1, 2160, "bluray", 1, 3, "", NULL, 1},
    {"Game.of.Thrones.S01.1080p.BluRay.x265-GRP", "Game of Thrones", 0, 1, -1,
     1080, "bluray", 0, 0, "", NULL, 6},
    {"Game.of.Thrones.S01E01.1080p.BluRay.x265-GRP.mkv", "Game of Thrones", 0,
     1, 1, 1080, "bluray", 0, 0, "", NULL, 6},
    {"Series Title S05E02 HDTV x264-Xclusive [eztv]", "Series Title", 0, 5, 2,
     0, "hdtv", 0, 0, "", NULL, 0},
    {"Dune.Part.Two.2024.2160p.WEB-DL.DDP5.1.Atmos.DV.HDR.H.265-FLUX",
     "Dune Part Two", 2024, -1, -1, 2160, "web", 0, 3, "", NULL, 1},
    {"Dune.Part.Two.2024.1080p.WEB-DL.DDP5.1.Atmos.H.264-FLUX", "Dune Part Two",
     2024, -1, -1, 1080, "web", 0, 0, "", NULL, 6},
    {"Dune.Part.Two.2024.HDCAM.x264-NOGRP", "Dune Part Two", 2024, -1, -1, 0,
     "", 0, 0, "", "cam", 0},
    {"Oppenheimer.2023.2160p.UHD.BluRay.x265.10bit.HDR.DTS-HD.MA.5.1-SWTYBLZ",
     "Oppenheimer", 2023, -1, -1, 2160, "bluray", 0, 1, "", NULL, 3},
    {"Oppenheimer.2023.1080p.BluRay.REMUX.AVC.DTS-HD.MA.5.1-FGT", "Oppenheimer",
     2023, -1, -1, 1080, "bluray", 1, 0, "", NULL, 5},
    {"Oppenheimer 2023 1080p HDTS x264 AAC", "Oppenheimer", 2023, -1, -1, 1080,
     "", 0, 0, "", "ts", 0},
    {"Barbie.2023.HDTC.x264-AOC", "Barbie", 2023, -1, -1, 0, "", 0, 0, "", "tc",
     0},
    {"Barbie.2023.2160p.MA.WEB-DL.DDP5.1.Atmos.HDR10+.H.265-FLUX", "Barbie",
     2023, -1, -1, 2160, "web", 0, 2, "", NULL, 2},
    {"Scream.VI.2023.DVDSCR.XviD-EVO", "Scream VI", 2023, -1, -1, 0, "dvd", 0,
     0, "", "screener", 0},
    {"Scream.VI.2023.1080p.WEBRip.x264.AAC5.1-[YTS.MX]", "Scream VI", 2023, -1,
     -1, 1080, "web", 0, 0, "", NULL, 6},
    {"Scream VI (2023) [2160p] [4K] [WEB] [5.1] [YTS.MX]", "Scream VI", 2023,
     -1, -1, 2160, "web", 0, 0, "", NULL, 4},
    {"Avatar.The.Way.of.Water.2022.2160p.WEB-DL.DV.HDR10.DDP5.1.Atmos-BiTOR",
     "Avatar The Way of Water", 2022, -1, -1, 2160, "web", 0, 3, "", NULL, 1},
    {"Avatar.The.Way.of.Water.2022.1080p.3D.BluRay.Half-SBS.x264.DTS-HD.MA.7.1-"
     "FGT",
     "Avatar The Way of Water", 2022, -1, -1, 1080, "bluray", 0, 0, "", "3d",
     0},
    {"The.Italian.Job.2003.1080p.BluRay.x264-CiNEFiLE", "The Italian Job", 2003,
     -1, -1, 1080, "bluray", 0, 0, "", NULL, 6},
    {"Amelie.2001.FRENCH.1080p.BluRay.x264-LOST", "Amelie", 2001, -1, -1, 1080,
     "bluray", 0, 0, "fr", NULL, 0},
    {"Parasite.2019.KOREAN.2160p.UHD.BluRay.REMUX.HDR.HEVC.DTS-HD.MA.5.1-GRP",
     "Parasite", 2019, -1, -1, 2160, "bluray", 1, 1, "ko", NULL, 0},
    {"Parasite.2019.MULTi.1080p.BluRay.x264-UTT", "Parasite", 2019, -1, -1,
     1080, "bluray", 0, 0, "multi", NULL, 6},
    {"Blade.Runner.2049.2017.2160p.UHD.BluRay.REMUX.HDR.HEVC.Atmos-EPSiLON",
     "Blade Runner 2049", 2017, -1, -1, 2160, "bluray", 1, 1, "", NULL, 3},
    {"Blade Runner 2049 (2017) 1080p BluRay x265 10bit AAC 7.1",
     "Blade Runner 2049", 2017, -1, -1, 1080, "bluray", 0, 0, "", NULL, 6},
    {"1917.2019.1080p.BluRay.REMUX.AVC.DTS-HD.MA.5.1-FGT", "1917", 2019, -1, -1,
     1080, "bluray", 1, 0, "", NULL, 5},
    {"Top.Gun.Maverick.2022.IMAX.2160p.WEB-DL.DDP5.1.Atmos.DV.H.265-CMRG",
     "Top Gun Maverick", 2022, -1, -1, 2160, "web", 0, 3, "", NULL, 1},
    {"Top.Gun.Maverick.2022.CAMRip.x264", "Top Gun Maverick", 2022, -1, -1, 0,
     "", 0, 0, "", "cam", 0},
    {"John.Wick.Chapter.4.2023.TS.x264", "John Wick Chapter 4", 2023, -1, -1, 0,
     "", 0, 0, "", "ts", 0},
    {"John.Wick.Chapter.4.2023.1080p.WEB.H264-NAISU", "John Wick Chapter 4",
     2023, -1, -1, 1080, "web", 0, 0, "", NULL, 6},
    {"John.Wick.Chapter.4.2023.2160p.WEB.H265-NAISU", "John Wick Chapter 4",
     2023, -1, -1, 2160, "web", 0, 0, "", NULL, 4},
    {"Spider-Man.Across.the.Spider-Verse.2023.2160p.WEB-DL.DDP5.1.Atmos.DV."
     "HDR10+.H.265-FLUX",
     "Spider-Man Across the Spider-Verse", 2023, -1, -1, 2160, "web", 0, 3, "",
     NULL, 1},
    {"Spider-Man.Across.the.Spider-Verse.2023.720p.WEBRip.x264-GalaxyRG",
     "Spider-Man Across the Spider-Verse", 2023, -1, -1, 720, "web", 0, 0, "",
     NULL, 0},
    {"The.Super.Mario.Bros.Movie.2023.1080p.WEB-DL.DDP5.1.Atmos.H.264-EVO",
     "The Super Mario Bros Movie", 2023, -1, -1, 1080, "web", 0, 0, "", NULL,
     6},
    {"The.Super.Mario.Bros.Movie.2023.NEW.HDTS.1080p.x264",
     "The Super Mario Bros Movie", 2023, -1, -1, 1080, "", 0, 0, "", "ts", 0},
    {"Interstellar.2014.2160p.UHD.BluRay.x265.10bit.HDR.TrueHD.7.1.Atmos-RARBG",
     "Interstellar", 2014, -1, -1, 2160, "bluray", 0, 1, "", NULL, 3},
    {"Interstellar.2014.IMAX.1080p.BluRay.x264.DTS-HD.MA.5.1-HDChina",
     "Interstellar", 2014, -1, -1, 1080, "bluray", 0, 0, "", NULL, 6},
    {"Inception.2010.2160p.UHD.BluRay.REMUX.HDR.HEVC.TrueHD.7.1.Atmos-FGT",
     "Inception", 2010, -1, -1, 2160, "bluray", 1, 1, "", NULL, 3},
    {"Inception 2010 1080p BRRip x264 AAC-ETRG", "Inception", 2010, -1, -1,
     1080, "bluray", 0, 0, "", NULL, 6},
    {"The.Batman.2022.2160p.WEB-DL.DV.HDR.DDP5.1.Atmos.H.265-TEPES",
     "The Batman", 2022, -1, -1, 2160, "web", 0, 3, "", NULL, 1},
    {"The.Batman.2022.HDCAM.V2.x264-NOGRP", "The Batman", 2022, -1, -1, 0, "",
     0, 0, "", "cam", 0},
    {"Fight.Club.1999.1080p.BluRay.x264.DTS-FGT", "Fight Club", 1999, -1, -1,
     1080, "bluray", 0, 0, "", NULL, 6},
    {"Fight Club 1999 REMASTERED 1080p BluRay x265 HEVC 10bit AAC 5.1",
     "Fight Club", 1999, -1, -1, 1080, "bluray", 0, 0, "", NULL, 6},
    {"Joker.2019.2160p.BluRay.REMUX.HEVC.DTS-HD.MA.TrueHD.7.1.Atmos-FGT",
     "Joker", 2019, -1, -1, 2160, "bluray", 1, 0, "", NULL, 4},
    {"Joker.2019.DVDScr.XVID.AC3.HQ.Hive-CM8", "Joker", 2019, -1, -1, 0, "dvd",
     0, 0, "", "screener", 0},
    {"Everything.Everywhere.All.at.Once.2022.2160p.WEB-DL.DDP5.1.HDR.HEVC-EVO",
     "Everything Everywhere All at Once", 2022, -1, -1, 2160, "web", 0, 1, "",
     NULL, 3},
    {"Everything.Everywhere.All.at.Once.2022.1080p.AMZN.WEB-DL.DDP5.1.H.264-"
     "EVO",
     "Everything Everywhere All at Once", 2022, -1, -1, 1080, "web", 0, 0, "",
     NULL, 6},
    {"Tenet.2020.IMAX.2160p.UHD.BluRay.x265.10bit.HDR.DTS-HD.MA.5.1-SWTYBLZ",
     "Tenet", 2020, -1, -1, 2160, "bluray", 0, 1, "", NULL, 3},
    {"Tenet.2020.TELESYNC.x264", "Tenet", 2020, -1, -1, 0, "", 0, 0, "", "ts",
     0},
    {"Tenet.2020.WORKPRINT.XviD", "Tenet", 2020, -1, -1, 0, "", 0, 0, "",
     "workprint", 0},
    {"No.Time.to.Die.2021.2160p.UHD.BluRay.REMUX.DV.HDR.HEVC.TrueHD.Atmos.7.1-"
     "FraMeSToR",
     "No Time to Die", 2021, -1, -1, 2160, "bluray", 1, 3, "", NULL, 1},
    {"No.Time.to.Die.2021.GERMAN.DL.1080p.BluRay.x264-DETAiLS",
     "No Time to Die", 2021, -1, -1, 1080, "bluray", 0, 0, "de", NULL, 0},
    {"No.Time.to.Die.2021.iTALiAN.MD.1080p.HDTS.x264", "No Time to Die", 2021,
     -1, -1, 1080, "", 0, 0, "it", "ts", 0},
    {"Mad.Max.Fury.Road.2015.1080p.BluRay.DDP7.1.x264-EbP", "Mad Max Fury Road",
     2015, -1, -1, 1080, "bluray", 0, 0, "", NULL, 6},
    {"Mad.Max.Fury.Road.2015.2160p.HDR.DV.WEB-DL.x265", "Mad Max Fury Road",
     2015, -1, -1, 2160, "web", 0, 3, "", NULL, 1},
    {"Breaking.Bad.S05.COMPLETE.1080p.BluRay.x264-ROVERS", "Breaking Bad", 0, 5,
     -1, 1080, "bluray", 0, 0, "", NULL, 6},
    {"Breaking.Bad.S05E14.Ozymandias.1080p.BluRay.x264-ROVERS", "Breaking Bad",
     0, 5, 14, 1080, "bluray", 0, 0, "", NULL, 6},
    {"Breaking.Bad.S01.720p.BluRay.x264-DEMAND", "Breaking Bad", 0, 1, -1, 720,
     "bluray", 0, 0, "", NULL, 0},
    {"The.Last.of.Us.S01E01.2160p.HMAX.WEB-DL.DDP5.1.Atmos.DV.HDR.H.265-FLUX",
     "The Last of Us", 0, 1, 1, 2160, "web", 0, 3, "", NULL, 1},
    {"The.Last.of.Us.S01.1080p.WEBRip.x265-RARBG", "The Last of Us", 0, 1, -1,
     1080, "web", 0, 0, "", NULL, 6},
    {"The.Last.of.Us.S01E09.720p.HDTV.x264-SYNCOPY", "The Last of Us", 0, 1, 9,
     720, "hdtv", 0, 0, "", NULL, 0},
    {"House.of.the.Dragon.S02.2160p.MAX.WEB-DL.DDP5.1.Atmos.DV.HDR.H.265-FLUX",
     "House of the Dragon", 0, 2, -1, 2160, "web", 0, 3, "", NULL, 1},
    {"House.of.the.Dragon.S02E01.1080p.WEB.H264-SuccessfulCrab",
     "House of the Dragon", 0, 2, 1, 1080, "web", 0, 0, "", NULL, 6},
    {"Severance.S02E03.2160p.ATVP.WEB-DL.DDP5.1.Atmos.DV.HDR.H.265-NTb",
     "Severance", 0, 2, 3, 2160, "web", 0, 3, "", NULL, 1},
    {"Severance.S01.1080p.ATVP.WEB-DL.DDPA5.1.H.264-NTb", "Severance", 0, 1, -1,
     1080, "web", 0, 0, "", NULL, 6},
    {"The.Bear.S03.COMPLETE.1080p.HULU.WEB-DL.DDP5.1.H.264-NTb", "The Bear", 0,
     3, -1, 1080, "web", 0, 0, "", NULL, 6},
    {"Shogun.2024.S01E01.Anjin.2160p.DSNP.WEB-DL.DDP5.1.HDR10.H.265-NTb",
     "Shogun", 2024, 1, 1, 2160, "web", 0, 1, "", NULL, 3},
    {"Stranger.Things.S04.2160p.NF.WEB-DL.DDP5.1.Atmos.DV.HDR.HEVC-TEPES",
     "Stranger Things", 0, 4, -1, 2160, "web", 0, 3, "", NULL, 1},
    {"Stranger.Things.S04E01.1080p.NF.WEB-DL.DDP5.1.x264-NTb",
     "Stranger Things", 0, 4, 1, 1080, "web", 0, 0, "", NULL, 6},
    {"The.Mandalorian.S03E08.1080p.DSNP.WEB-DL.DDP5.1.Atmos.H.264-NTb",
     "The Mandalorian", 0, 3, 8, 1080, "web", 0, 0, "", NULL, 6},
    {"The.Mandalorian.S03.2160p.DSNP.WEB-DL.DDP5.1.Atmos.DV.HDR.H.265-FLUX",
     "The Mandalorian", 0, 3, -1, 2160, "web", 0, 3, "", NULL, 1},
    {"Succession.S04E10.With.Open.Eyes.2160p.MAX.WEB-DL.DDP5.1.DV.HDR.H.265-"
     "NTb",
     "Succession", 0, 4, 10, 2160, "web", 0, 3, "", NULL, 1},
    {"Chernobyl.S01.1080p.BluRay.REMUX.AVC.DTS-HD.MA.5.1-NOGRP", "Chernobyl", 0,
     1, -1, 1080, "bluray", 1, 0, "", NULL, 5},
    {"True.Detective.S01.2160p.UHD.BluRay.x265.10bit.HDR.DTS-HD.MA.5.1-GRP",
     "True Detective", 0, 1, -1, 2160, "bluray", 0, 1, "", NULL, 3},
    {"Fargo.S05E01.1080p.WEB.h264-ETHEL", "Fargo", 0, 5, 1, 1080, "web", 0, 0,
     "", NULL, 6},
    {"The.Office.US.S02.720p.BluRay.x264-DEMAND", "The Office US", 0, 2, -1,
     720, "bluray", 0, 0, "", NULL, 0},
    {"Friends.S01-S10.COMPLETE.1080p.BluRay.x265-GRP", "Friends", 0, 1, -1,
     1080, "bluray", 0, 0, "", NULL, 6},
    {"Oppenheimer.2023.1080p.WEBRip.x264.AAC5.1-[YTS.MX]", "Oppenheimer", 2023,
     -1, -1, 1080, "web", 0, 0, "", NULL, 6},
    {"Killers.of.the.Flower.Moon.2023.2160p.ATVP.WEB-DL.DDP5.1.Atmos.DV.HDR.H."
     "265-FLUX",
     "Killers of the Flower Moon", 2023, -1, -1, 2160, "web", 0, 3, "", NULL,
     1},
    {"Killers.of.the.Flower.Moon.2023.HDCAM.c1nem4.x264-SUNSCREEN",
     "Killers of the Flower Moon", 2023, -1, -1, 0, "", 0, 0, "", "cam", 0},
    {"Poor.Things.2023.1080p.DSNP.WEB-DL.DDP5.1.H.264-FLUX", "Poor Things",
     2023, -1, -1, 1080, "web", 0, 0, "", NULL, 6},
    {"Poor.Things.2023.SCREENER.x264", "Poor Things", 2023, -1, -1, 0, "", 0, 0,
     "", "screener", 0},
    {"The.Holdovers.2023.1080p.BluRay.x264.DTS-WiKi", "The Holdovers", 2023, -1,
     -1, 1080, "bluray", 0, 0, "", NULL, 6},
    {"The.Holdovers.2023.2160p.AMZN.WEB-DL.DDP5.1.HDR.H.265-FLUX",
     "The Holdovers", 2023, -1, -1, 2160, "web", 0, 1, "", NULL, 3},
    {"Godzilla.Minus.One.2023.JAPANESE.1080p.BluRay.x264.DTS-HD.MA.7.1-WiKi",
     "Godzilla Minus One", 2023, -1, -1, 1080, "bluray", 0, 0, "ja", NULL, 0},
    {"Godzilla.Minus.One.2023.MULTi.2160p.UHD.BluRay.x265.HDR.DTS-HD.MA.7.1-"
     "GRP",
     "Godzilla Minus One", 2023, -1, -1, 2160, "bluray", 0, 1, "multi", NULL,
     3},
    {"Anatomy.of.a.Fall.2023.FRENCH.2160p.WEB-DL.DDP5.1.HDR.H.265-GRP",
     "Anatomy of a Fall", 2023, -1, -1, 2160, "web", 0, 1, "fr", NULL, 0},
    {"Past.Lives.2023.1080p.AMZN.WEB-DL.DDP5.1.H.264-FLUX", "Past Lives", 2023,
     -1, -1, 1080, "web", 0, 0, "", NULL, 6},
    {"Wonka.2023.2160p.MA.WEB-DL.DDP5.1.Atmos.DV.HDR10.H.265-FLUX", "Wonka",
     2023, -1, -1, 2160, "web", 0, 3, "", NULL, 1},
    {"Wonka.2023.1080p.HDTS.x264", "Wonka", 2023, -1, -1, 1080, "", 0, 0, "",
     "ts", 0},
    {"Aquaman.and.the.Lost.Kingdom.2023.720p.HDCAM-C1NEM4",
     "Aquaman and the Lost Kingdom", 2023, -1, -1, 720, "", 0, 0, "", "cam", 0},
    {"Aquaman.and.the.Lost.Kingdom.2023.2160p.WEB-DL.DDP5.1.Atmos.HDR10+.H.265-"
     "FLUX",
     "Aquaman and the Lost Kingdom", 2023, -1, -1, 2160, "web", 0, 2, "", NULL,
     2},
    {"The.Marvels.2023.1080p.WEBRip.x265.10bit.AAC5.1-[YTS.MX]", "The Marvels",
     2023, -1, -1, 1080, "web", 0, 0, "", NULL, 6},
    {"The.Marvels.2023.2160p.DSNP.WEB-DL.DDP5.1.Atmos.DV.HDR.H.265-FLUX",
     "The Marvels", 2023, -1, -1, 2160, "web", 0, 3, "", NULL, 1},
    {"Napoleon.2023.2160p.ATVP.WEB-DL.DDP5.1.Atmos.DV.HDR.H.265-FLUX",
     "Napoleon", 2023, -1, -1, 2160, "web", 0, 3, "", NULL, 1},
    {"Napoleon.2023.HC.HDRip.x264", "Napoleon", 2023, -1, -1, 0, "", 0, 0, "",
     NULL, 0},
    {"Civil.War.2024.2160p.UHD.BluRay.REMUX.DV.HDR10.HEVC.TrueHD.7.1.Atmos-FGT",
     "Civil War", 2024, -1, -1, 2160, "bluray", 1, 3, "", NULL, 1},
    {"Civil.War.2024.1080p.BluRay.REMUX.AVC.TrueHD.7.1.Atmos-FGT", "Civil War",
     2024, -1, -1, 1080, "bluray", 1, 0, "", NULL, 5},
    {"Alien.Romulus.2024.1080p.TELESYNC.x264-SMART", "Alien Romulus", 2024, -1,
     -1, 1080, "", 0, 0, "", "ts", 0},
    {"Alien.Romulus.2024.2160p.WEB-DL.DDP5.1.Atmos.DV.HDR10+.H.265-FLUX",
     "Alien Romulus", 2024, -1, -1, 2160, "web", 0, 3, "", NULL, 1},
    {"Deadpool.and.Wolverine.2024.1080p.HDTC.H264-RGB",
     "Deadpool and Wolverine", 2024, -1, -1, 1080, "", 0, 0, "", "tc", 0},
    {"Deadpool.and.Wolverine.2024.2160p.DSNP.WEB-DL.DDP5.1.Atmos.DV.HDR.H.265-"
     "FLUX",
     "Deadpool and Wolverine", 2024, -1, -1, 2160, "web", 0, 3, "", NULL, 1},
    {"Inside.Out.2.2024.2160p.WEB-DL.DDP5.1.Atmos.DV.HDR.H.265-FLUX",
     "Inside Out 2", 2024, -1, -1, 2160, "web", 0, 3, "", NULL, 1},
    {"Inside.Out.2.2024.RUSSIAN.1080p.WEB-DL.x264", "Inside Out 2", 2024, -1,
     -1, 1080, "web", 0, 0, "ru", NULL, 0},
    {"Twisters.2024.1080p.WEBRip.x264.AAC-LAMA", "Twisters", 2024, -1, -1, 1080,
     "web", 0, 0, "", NULL, 6},
    {"Gladiator.II.2024.2160p.WEB-DL.DDP5.1.Atmos.DV.HDR10+.H.265-FLUX",
     "Gladiator II", 2024, -1, -1, 2160, "web", 0, 3, "", NULL, 1},
    {"Gladiator.II.2024.HDTS.c1nem4.x264", "Gladiator II", 2024, -1, -1, 0, "",
     0, 0, "", "ts", 0},
    {"[SubsPlease] Frieren - 12 (1080p) [ABCD1234].mkv", "Frieren", 0, 1, 12,
     1080, "", 0, 0, "", NULL, 6},
    {"The.Lord.of.the.Rings.The.Return.of.the.King.2003.EXTENDED.2160p.UHD."
     "BluRay.REMUX.DV.HDR.HEVC.TrueHD.7.1.Atmos-FGT",
     "The Lord of the Rings The Return of the King", 2003, -1, -1, 2160,
     "bluray", 1, 3, "", NULL, 1},
    {"Heat.1995.2160p.UHD.BluRay.REMUX.DV.HDR.HEVC.DTS-HD.MA.5.1-FGT", "Heat",
     1995, -1, -1, 2160, "bluray", 1, 3, "", NULL, 1},
    {"Heat.1995.1080p.BluRay.x264.DTS-HD.MA.5.1-SWTYBLZ", "Heat", 1995, -1, -1,
     1080, "bluray", 0, 0, "", NULL, 6},
    {"Se7en.1995.REMASTERED.1080p.BluRay.x264.DTS-SWTYBLZ", "Se7en", 1995, -1,
     -1, 1080, "bluray", 0, 0, "", NULL, 6},
};

static rg_rank_conf *conf(const char *ladder, const char *langs,
                          const char *msize) {
  char *cause = NULL;
  rg_rank_opts o = {.ladder = ladder,
                    .movie_sizes = msize,
                    .episode_sizes = "1080p=200-8000",
                    .reject = "cam,ts,tc,screener,workprint,3d",
                    .languages = langs,
                    .min_seeders = 20,
                    .min_seeders_watchlist = 10};
  rg_rank_conf *c = rg_rank_conf_new(&o, &cause);
  if (!c)
    printf("# %s\n", cause);
  free(cause);
  return c;
}

static int score(const rg_rank_conf *c, const char *name) {
  rg_rank_attrs a;
  rg_rank_verdict v;
  rg_rank_parse(name, &a);
  rg_rank_eval(c, &a, 100, 0, RG_RANK_MOVIE, 1, false, &v);
  return v.ok ? v.score : -1;
}

int main(void) {
  rg_rank_conf *c = conf(NULL, "en", "");
  ok(c != NULL, "default ladder parses");
  is_int(rg_rank_tiers(c), 6, "default ladder has 6 tiers");
  size_t n = sizeof rows / sizeof rows[0];
  ok(n >= 100, "%zu release names in the table", n);
  for (size_t i = 0; i < n; i++) {
    const row *r = &rows[i];
    rg_rank_attrs a;
    rg_rank_verdict v;
    rg_rank_parse(r->name, &a);
    rg_rank_eval(c, &a, 100, 0, RG_RANK_MOVIE, 1, false, &v);
    bool same =
        strcmp(a.rel.title, r->title) == 0 && a.rel.year == r->year &&
        a.rel.season == r->season && a.rel.episode == r->episode &&
        a.rel.resolution == r->res && strcmp(a.rel.source, r->source) == 0 &&
        a.remux == r->remux && a.hdr == r->hdr &&
        strcmp(a.langs, r->langs) == 0 &&
        ((!a.rejected && !r->rejected) ||
         (a.rejected && r->rejected && strcmp(a.rejected, r->rejected) == 0)) &&
        (v.ok ? v.tier + 1 : 0) == r->tier;
    ok(same, "%s", r->name);
    if (!same)
      printf("#   got title '%s' %d S%dE%d %dp '%s' remux %d hdr %d langs "
             "'%s' rejected %s; %s\n",
             a.rel.title, a.rel.year, a.rel.season, a.rel.episode,
             a.rel.resolution, a.rel.source, a.remux, a.hdr, a.langs,
             a.rejected ? a.rejected : "-", v.why);
  }

  /* the ladder's order: 4K DV > 4K HDR10+ > 4K HDR > 4K > 1080p REMUX >
   * 1080p, whatever the audio */
  const char *ladder[] = {"M.2020.2160p.WEB-DL.DV.H.265-G",
                          "M.2020.2160p.WEB-DL.HDR10+.H.265-G",
                          "M.2020.2160p.WEB-DL.HDR.H.265-G",
                          "M.2020.2160p.WEB-DL.H.265-G",
                          "M.2020.1080p.BluRay.REMUX.AVC-G",
                          "M.2020.1080p.BluRay.x264.TrueHD.7.1.Atmos-G"};
  for (size_t i = 0; i + 1 < (sizeof ladder / sizeof ladder[0]); i++)
    ok(score(c, ladder[i]) > score(c, ladder[i + 1]), "%s beats %s", ladder[i],
       ladder[i + 1]);
  ok(score(c, "M.2020.1080p.BluRay.x264.TrueHD.7.1.Atmos-G") >
         score(c, "M.2020.1080p.WEB.x264-G"),
     "within a tier, Atmos/TrueHD beats plain");
  ok(score(c, "M.2020.2160p.WEB-DL.DV.HDR.H.265-G") >
         score(c, "M.2020.2160p.WEB-DL.DV.H.265-G"),
     "DV with an HDR10 fallback beats DV alone");
  ok(score(c, "M.2020.2160p.WEB-DL.HDR.H.265-G") -
             score(c, "M.2020.1080p.WEB.x264-G") >=
         100,
     "a resolution step clears the default margin of 100");
  ok(score(c, "M.2020.1080p.WEB.x264.DDP5.1-G") -
             score(c, "M.2020.1080p.WEB.x264-G") <
         100,
     "better audio alone does not clear the default margin");

  /* seeders, watchlist and sizes */
  rg_rank_attrs a;
  rg_rank_verdict v;
  rg_rank_parse("The.Matrix.1999.1080p.BluRay.x264-GRP", &a);
  rg_rank_eval(c, &a, 19, 0, RG_RANK_MOVIE, 1, false, &v);
  ok(!v.ok && strstr(v.why, "seeders"), "19 seeders rejected: %s", v.why);
  rg_rank_eval(c, &a, 20, 0, RG_RANK_MOVIE, 1, false, &v);
  ok(v.ok, "20 seeders accepted");
  rg_rank_eval(c, &a, 10, 0, RG_RANK_MOVIE, 1, true, &v);
  ok(v.ok, "10 seeders accepted for the watchlist");
  rg_rank_eval(c, &a, 9, 0, RG_RANK_MOVIE, 1, true, &v);
  ok(!v.ok, "9 seeders rejected for the watchlist");
  rg_rank_eval(c, &a, -1, 0, RG_RANK_MOVIE, 1, false, &v);
  ok(v.ok, "unknown seeders are not held against a release");
  rg_rank_conf_free(&c);

  c = conf(NULL, "", "1080p=1500-30000,2160p=8000-100000");
  rg_rank_eval(c, &a, 50, (int64_t)700 << 20, RG_RANK_MOVIE, 1, false, &v);
  ok(!v.ok && strstr(v.why, "outside"), "700 MiB 1080p movie too small: %s",
     v.why);
  rg_rank_eval(c, &a, 50, (int64_t)2600 << 20, RG_RANK_MOVIE, 1, false, &v);
  ok(v.ok, "2.6 GiB 1080p movie fits");
  rg_rank_eval(c, &a, 50, (int64_t)40000 << 20, RG_RANK_MOVIE, 1, false, &v);
  ok(!v.ok, "40 GB 1080p movie too large");
  rg_rank_parse("Show.S01.1080p.WEB.x264-G", &a);
  rg_rank_eval(c, &a, 50, (int64_t)20000 << 20, RG_RANK_EPISODE, 10, false, &v);
  ok(v.ok, "a 20 GB pack of 10 episodes is 2 GB per episode: %s", v.why);
  rg_rank_eval(c, &a, 50, (int64_t)20000 << 20, RG_RANK_EPISODE, 1, false, &v);
  ok(!v.ok, "a 20 GB single episode is too large: %s", v.why);
  rg_rank_parse("Amelie.2001.FRENCH.1080p.BluRay.x264-LOST", &a);
  rg_rank_eval(c, &a, 50, 0, RG_RANK_MOVIE, 1, false, &v);
  ok(v.ok, "no language filter: FRENCH accepted");
  rg_rank_conf_free(&c);

  /* custom ladders */
  c = conf("1080p remux > 1080p > 720p", "en,fr", "");
  ok(c && rg_rank_tiers(c) == 3, "'>' separates tiers too");
  rg_rank_parse("K-PAX 2001 720p BluRay", &a);
  rg_rank_eval(c, &a, 50, 0, RG_RANK_MOVIE, 1, false, &v);
  ok(v.ok && v.tier == 2, "720p accepted by a ladder that lists it");
  rg_rank_parse("M.2020.2160p.WEB-DL.DV.H.265-G", &a);
  rg_rank_eval(c, &a, 50, 0, RG_RANK_MOVIE, 1, false, &v);
  ok(!v.ok, "2160p rejected by a 1080p-only ladder");
  rg_rank_parse("Amelie.2001.FRENCH.1080p.BluRay.x264-LOST", &a);
  rg_rank_eval(c, &a, 50, 0, RG_RANK_MOVIE, 1, false, &v);
  ok(v.ok, "FRENCH accepted when fr is listed");
  rg_rank_conf_free(&c);

  char *cause = NULL;
  rg_rank_opts bad = {.ladder = "2160p sparkly"};
  ok(!rg_rank_conf_new(&bad, &cause) && cause && strstr(cause, "sparkly"),
     "unknown ladder word named: %s", cause ? cause : "");
  free(cause);
  cause = NULL;
  rg_rank_opts bad2 = {.movie_sizes = "1080p=900"};
  ok(!rg_rank_conf_new(&bad2, &cause) && cause && strstr(cause, "1080p=900"),
     "bad size bound named: %s", cause ? cause : "");
  free(cause);
  cause = NULL;
  rg_rank_opts bad3 = {.ladder = "1080p,,720p"};
  ok(!rg_rank_conf_new(&bad3, &cause), "an empty tier is an error");
  free(cause);

  /* a Torrentio title: release name, then seeders/size, then flags */
  rg_rank_parse("K-PAX.2001.2160p.UHD.BluRay.REMUX.DV.HDR.HEVC.Atmos-GRP\n"
                "\xF0\x9F\x91\xA4 42 \xF0\x9F\x92\xBE 58.3 GB\n"
                "\xF0\x9F\x87\xAC\xF0\x9F\x87\xA7 / "
                "\xF0\x9F\x87\xAE\xF0\x9F\x87\xB9",
                &a);
  is_str(a.rel.title, "K-PAX", "Torrentio title: the first line is the name");
  is_str(a.langs, "en,it", "Torrentio flags are languages");
  ok(a.hdr == RG_HDR_DV && a.remux, "Torrentio title: DV REMUX");
  rg_rank_parse(NULL, &a);
  ok(!a.parsed, "NULL name parses to nothing");
  return tap_done();
}
