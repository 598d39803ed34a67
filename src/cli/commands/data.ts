/** `mono data get NAME`: download a data set into mono's data cache (or a folder). */
import type { Command, CommandIO } from '../command.js';

export const dataCommand: Command = {
  name: 'data',
  summary: 'download a data set (cifar10, fashion-mnist, mnist) into the data cache, checked',
  help: `Usage: mono data get cifar10|fashion-mnist|mnist [--dir DIR] [--url URL] [--sha256 HEX]...

Downloads a data set into mono's data cache, where plans find it without a path:
  cifar10        CIFAR-10, binary version (162 MB archive, unpacked)  data cifar10 { ... }
  fashion-mnist  Fashion-MNIST, the four gzipped IDX files (30 MB)     data fashion_mnist { ... }
  mnist          MNIST, the four gzipped IDX files (11 MB)             data idx("mnist") { ... }
The cache is $MONO_DATA when set, else the platform's cache folder (~/.cache/mono on
Linux, or $XDG_CACHE_HOME/mono; ~/Library/Caches/mono on macOS; %LOCALAPPDATA%\\mono\\cache
on Windows). Relative data paths in a plan are looked for in the plan's folder, the
current directory, then the cache.

Every file is checked before it is used: against the md5 sum its publisher gives (only
md5 is published for these files), or the sha256 given with --sha256. A mismatch deletes
the download (exit 3). An interrupted download is resumed where it stopped (HTTP Range),
in this run or by running the same command again. The files are unpacked into a
temporary folder and renamed into place when complete: the target folder is either
absent or whole. A folder that already holds the set is left as it is.

Options:
  --dir DIR      put the set in DIR instead of the cache (a plan then names it:
                 data cifar10("DIR"))
  --url URL      download from URL instead of the publisher: the archive for cifar10, the
                 folder that holds the four .gz files for fashion-mnist and mnist. Without
                 --sha256 the files must be the official ones (md5 checked)
  --sha256 HEX   the sha256 of the file (cifar10); FILE=HEX names one of the four files of
                 fashion-mnist or mnist (repeatable)
  -h, --help     show this help

Exit codes: 0 the set is in place, 2 usage error, 3 download failed (the bytes received
are kept for a resume), checksum mismatch (nothing kept), or an archive that does not
hold the set.

Examples:
  mono data get cifar10
  mono data get mnist --dir data/mnist
  MONO_DATA=/srv/datasets mono data get fashion-mnist
  mono data get cifar10 --url https://mirror.example/cifar-10-binary.tar.gz --sha256 <64 hex digits>
`,
  async run(args: string[], io: CommandIO): Promise<number> {
    const { dataAction } = await import('./data-action.js');
    return dataAction(args, io);
  },
};
