/**
 * The data sets `mono data get` fetches: where from, the checksums their publishers
 * give, and what the finished folder holds. Only md5 sums are published for these
 * files (CIFAR-10 on its page https://www.cs.toronto.edu/~kriz/cifar.html; MNIST and
 * Fashion-MNIST as listed by torchvision's datasets/mnist.py), so the default downloads
 * are checked against md5; a user's own URL is checked against the sha256 they give.
 */
import { CIFAR10_URL } from './cifar10.js';
import type { DownloadableName } from './cache.js';

export interface RemoteFile {
  /** The file's name, also its name on disk. */
  name: string;
  /** Mirrors, tried in order. */
  urls: string[];
  md5: string;
}

export interface DownloadableSet {
  name: DownloadableName;
  /** The plan line that reads the set from mono's data cache. */
  planLine: string;
  files: RemoteFile[];
  /** `tar.gz`: the one file is an archive to unpack; `files`: the files are kept as they are (gzipped IDX). */
  layout: 'tar.gz' | 'files';
  /** Paths (relative to the finished folder) that a complete copy holds. */
  markers: string[];
}

const IDX_FILES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'] as const;
const MNIST_MIRRORS = ['https://yann.lecun.com/exdb/mnist/', 'https://ossci-datasets.s3.amazonaws.com/mnist/'];
const MNIST_MD5 = ['f68b3c2dcbeaaa9fbdd348bbdeb94873', 'd53e105ee54ea40749a09fcbcd1e9432', '9fb629c4189551a2d022fa330f9573f3', 'ec29112dd5afa0611ce80d1b7f02629c'];
const FASHION_MNIST_MIRRORS = ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'];
const FASHION_MNIST_MD5 = ['8d4fb7e6c68d591d4c3dfef9ec88bf0d', '25c81989df183df01b3e8a0aad5dffbe', 'bef4ecab320f06d8554ea6380940ec79', 'bb300cfdad3c16e7a12a480ee83cd310'];
const CIFAR10_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
/** The folder inside the CIFAR-10 archive. */
export const CIFAR10_ARCHIVE_FOLDER = 'cifar-10-batches-bin';

const idxFiles = (mirrors: string[], md5: string[]): RemoteFile[] =>
  IDX_FILES.map((name, i) => ({ name, urls: mirrors.map((mirror) => mirror + name), md5: md5[i]! }));

export const DOWNLOADABLE: Readonly<Record<DownloadableName, DownloadableSet>> = {
  cifar10: {
    name: 'cifar10',
    planLine: 'data cifar10 { ... }',
    files: [{ name: 'cifar-10-binary.tar.gz', urls: [CIFAR10_URL], md5: CIFAR10_MD5 }],
    layout: 'tar.gz',
    markers: [1, 2, 3, 4, 5].map((i) => `${CIFAR10_ARCHIVE_FOLDER}/data_batch_${i}.bin`).concat(`${CIFAR10_ARCHIVE_FOLDER}/test_batch.bin`),
  },
  'fashion-mnist': {
    name: 'fashion-mnist',
    planLine: 'data fashion_mnist { ... }',
    files: idxFiles(FASHION_MNIST_MIRRORS, FASHION_MNIST_MD5),
    layout: 'files',
    markers: [...IDX_FILES],
  },
  mnist: {
    name: 'mnist',
    planLine: 'data idx("mnist") { ... }',
    files: idxFiles(MNIST_MIRRORS, MNIST_MD5),
    layout: 'files',
    markers: [...IDX_FILES],
  },
};

export const DOWNLOADABLE_NAMES = Object.keys(DOWNLOADABLE) as DownloadableName[];

export function isDownloadable(name: string): name is DownloadableName {
  return Object.prototype.hasOwnProperty.call(DOWNLOADABLE, name);
}
