"""Data of notebooks 06-08: the offline edges -> shoes sets and the official pix2pix/CycleGAN downloads
(tested with small archives the tests make; nothing reaches the internet)."""
import http.server
import json
import threading
import tarfile
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from course_lib.data import official
from course_lib.data.official import (AlignedDataset, OfficialDataset, UnalignedDataset, download_official,
                                      split_aligned)
from course_lib.data.paths import DatasetError
from course_lib.data.shoes import SHOE_NAMES, canny_edges, make_edges2shoes, make_unpaired_edges_shoes


def test_edges2shoes_pairs_are_shoes_and_their_canny_edges():
    data = make_edges2shoes("test", n=64)
    assert SHOE_NAMES == ("Sandal", "Sneaker", "Ankle boot")
    assert data.edges.shape == data.shoes.shape == (64, 1, 32, 32)
    assert set(data.edges.unique().tolist()) == {-1.0, 1.0}
    assert data.shoes.min() >= -1 and data.shoes.max() <= 1
    assert set(data.labels.tolist()) <= {5, 7, 9} and set(data.types.tolist()) == {0, 1, 2}
    # edges lie on the shoe: an edge pixel has some shoe (non-background) pixel within 1 pixel
    shoe = torch.nn.functional.max_pool2d((data.shoes > -0.9).float(), 3, 1, 1)
    assert (shoe[data.edges > 0] > 0).float().mean() > 0.99
    e, s, t = data[3]
    assert e.shape == (1, 32, 32) and int(t) == int(data.types[3])
    with pytest.raises(ValueError):
        make_edges2shoes("test", n=10_000)


def test_canny_finds_the_border_of_a_square():
    img = np.zeros((1, 20, 20), np.uint8)
    img[0, 5:15, 5:15] = 255
    edges = canny_edges(img)
    assert edges.dtype == bool and edges[0, 5:15, 5:15].sum() > 20 and not edges[0, 9:11, 9:11].any()


def test_unpaired_domains_break_the_pairs_and_keep_a_paired_test_set():
    u = make_unpaired_edges_shoes(n_train=200, n_test=50, seed=1)
    assert len(u.a) == len(u.b) == 100 and len(u.test) == 50
    paired = make_edges2shoes("train", 200)
    # every B photo is a training photo whose own edge map is not in A
    idx_b = [int(((paired.shoes - b).abs().flatten(1).sum(1)).argmin()) for b in u.b[:20]]
    a_set = {tuple(map(int, (a > 0).flatten().nonzero().flatten().tolist()[:30])) for a in u.a}
    assert all(tuple(map(int, (paired.edges[i] > 0).flatten().nonzero().flatten().tolist()[:30])) not in a_set
               for i in idx_b)


# --- official downloads, with small archives served from this process -------------------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves files of one folder on 127.0.0.1, honouring "Range: bytes=N-" as HTTP hosts do."""
    folder = None
    ranges = []

    def do_GET(self):  # noqa: N802
        path = self.folder / self.path.lstrip("/")
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        rng = self.headers.get("Range")
        start = int(rng.split("=")[1].rstrip("-")) if rng else 0
        type(self).ranges.append(start)
        self.send_response(206 if rng else 200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    folder = tmp_path / "served"
    folder.mkdir()
    handler = type("Handler", (_Handler,), {"folder": folder, "ranges": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{httpd.server_address[1]}", handler
    httpd.shutdown()
    httpd.server_close()


def _pair_image(path, w=8, h=4, left=0, right=255):
    arr = np.zeros((h, 2 * w, 3), np.uint8)
    arr[:, :w] = left
    arr[:, w:] = right
    Image.fromarray(arr).save(path)


@pytest.fixture
def tiny_aligned(tmp_path, monkeypatch, server):
    served, base, _ = server
    src = tmp_path / "src" / "tiny"
    for split, n in (("train", 3), ("val", 2)):
        (src / split).mkdir(parents=True)
        for i in range(n):
            _pair_image(src / split / f"{i}.png")
    archive = served / "tiny.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src, arcname="tiny")
    spec = OfficialDataset("tiny", "aligned", f"{base}/tiny.tar.gz", {"train": 3, "val": 2}, (16, 4), "AtoB")
    monkeypatch.setitem(official.DATASETS, "tiny", spec)
    return archive


def test_download_verify_record_checksum_and_load(tiny_aligned, tmp_path):
    root = tmp_path / "dl"
    folder = download_official("tiny", root)
    assert sorted(p.name for p in folder.iterdir()) == ["train", "val"]
    recorded = json.loads((root / "CHECKSUMS.json").read_text())
    assert recorded["tiny"] == official.sha256_file(tiny_aligned)
    assert download_official("tiny", root) == folder  # second call: checks, nothing to fetch
    ab = AlignedDataset(folder / "train", direction="AtoB", size=None)
    ba = AlignedDataset(folder / "train", direction="BtoA", size=6)
    x, y = ab[0]
    assert len(ab) == 3 and x.shape == (3, 4, 8) and x.max() == -1 and y.min() == 1
    x2, y2 = ba[0]
    assert x2.shape == (3, 6, 6) and x2.min() > 0.9 and y2.max() < -0.9
    with pytest.raises(TypeError):
        AlignedDataset(folder / "train")  # the direction must be said
    with pytest.raises(ValueError):
        AlignedDataset(folder / "train", direction="AB")


def test_changed_archive_fails_its_recorded_checksum(tiny_aligned, tmp_path):
    root = tmp_path / "dl"
    download_official("tiny", root)
    with open(root / "tiny.tar.gz", "ab") as f:
        f.write(b"x")
    with pytest.raises(DatasetError, match="sha256"):
        download_official("tiny", root)


def test_counts_and_sizes_are_verified(tiny_aligned, tmp_path, monkeypatch):
    spec = official.DATASETS["tiny"]
    monkeypatch.setitem(official.DATASETS, "tiny", OfficialDataset("tiny", "aligned", spec.url, {"train": 4}, (16, 4)))
    with pytest.raises(DatasetError, match="expected 4 images, found 3"):
        download_official("tiny", tmp_path / "a")
    monkeypatch.setitem(official.DATASETS, "tiny", OfficialDataset("tiny", "aligned", spec.url, {"train": 3}, (512, 256)))
    with pytest.raises(DatasetError, match="expected 512x256"):
        download_official("tiny", tmp_path / "b")
    assert not (tmp_path / "b" / "CHECKSUMS.json").exists()  # nothing recorded for a bad download


def test_partial_download_resumes_with_a_range_request(tiny_aligned, tmp_path, server):
    root = tmp_path / "dl"
    root.mkdir()
    data = tiny_aligned.read_bytes()
    (root / "tiny.tar.gz.part").write_bytes(data[: len(data) // 2])
    download_official("tiny", root)
    assert server[2].ranges == [len(data) // 2], "only the missing bytes are asked for"
    assert (root / "tiny.tar.gz").read_bytes() == data and not (root / "tiny.tar.gz.part").exists()


def test_manual_archive_is_used_without_download(tiny_aligned, tmp_path, monkeypatch):
    root = tmp_path / "dl"
    root.mkdir()
    (root / "tiny.tar.gz").write_bytes(tiny_aligned.read_bytes())
    monkeypatch.setitem(official.DATASETS, "tiny", OfficialDataset(
        "tiny", "aligned", "http://127.0.0.1:9/tiny.tar.gz", {"train": 3, "val": 2}, (16, 4)))
    assert (download_official("tiny", root) / "val").is_dir()


def test_offline_error_names_url_and_manual_path(tmp_path, monkeypatch):
    url = "http://127.0.0.1:9/pix2pix/datasets/facades.tar.gz"  # nothing listens on port 9
    monkeypatch.setitem(official.DATASETS, "facades", OfficialDataset("facades", "aligned", url, {"train": 400}))
    with pytest.raises(DatasetError) as err:
        download_official("facades", tmp_path)
    assert url in str(err.value) and str(tmp_path / "facades.tar.gz") in str(err.value)
    with pytest.raises(ValueError, match="unknown official dataset"):
        download_official("facade", tmp_path)


def test_known_sets_use_the_official_hosts():
    assert {"facades", "cityscapes", "maps", "edges2shoes", "edges2handbags", "night2day", "horse2zebra",
            "apple2orange", "summer2winter_yosemite", "monet2photo"} <= set(official.DATASETS)
    for spec in official.DATASETS.values():
        assert spec.url.startswith("http://efrosgans.eecs.berkeley.edu/")
    assert official.DATASETS["facades"].paper_direction == "BtoA"


def test_unaligned_zip_layout(tmp_path, monkeypatch, server):
    src = tmp_path / "src"
    with zipfile.ZipFile(server[0] / "h2z.zip", "w") as z:
        for split, n in (("trainA", 2), ("trainB", 3), ("testA", 1), ("testB", 1)):
            for i in range(n):
                src.mkdir(exist_ok=True)
                Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(src / f"{split}{i}.jpg")
                z.write(src / f"{split}{i}.jpg", f"h2z/{split}/{i}.jpg")
    monkeypatch.setitem(official.DATASETS, "h2z", OfficialDataset(
        "h2z", "unaligned", f"{server[1]}/h2z.zip", {"trainA": 2, "trainB": 3, "testA": 1, "testB": 1}, (8, 8)))
    folder = download_official("h2z", tmp_path / "dl")
    ds = UnalignedDataset(folder, "train", size=4)
    a, b = ds[4]
    assert len(ds) == 3 and a.shape == b.shape == (3, 4, 4)


def test_split_aligned_direction():
    pair = torch.cat([torch.zeros(3, 2, 2), torch.ones(3, 2, 2)], -1)
    a, b = split_aligned(pair, "AtoB")
    assert a.sum() == 0 and b.mean() == 1
    b2, a2 = split_aligned(pair, "BtoA")
    assert b2.mean() == 1 and a2.sum() == 0
    with pytest.raises(ValueError):
        split_aligned(pair, "ab")
