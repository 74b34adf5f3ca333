/* seed.h — the helper subcommands that need no daemon: `reelgate seed`
 * (a local seeder on our own libtorrent engine, used by tests and the demo),
 * `reelgate mktorrent`, and `reelgate demo`. Each returns a process exit code. */
#ifndef RG_SEED_H
#define RG_SEED_H

int rg_cmd_seed(int argc, char **argv);
int rg_cmd_mktorrent(int argc, char **argv);
int rg_cmd_demo(int argc, char **argv);

#endif
