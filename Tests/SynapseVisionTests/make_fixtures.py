"""Writes the image fixtures from Fashion-MNIST's test set with the standard library only.

ankle-boot.png   test image 0 (label 9, Ankle boot): 28x28 8-bit gray, as the dataset stores it
trouser.png      test image 2 (label 1, Trouser): 84x84 RGB, dark object on a light background,
                 as a photo would be (3x nearest-neighbour, inverted, tinted)
pullover.pgm     test image 1 (label 2, Pullover): 28x28 binary PGM (P5) with a comment line
Usage: python3 Tests/SynapseVisionTests/make_fixtures.py [fashion-mnist directory]
"""
import gzip, os, struct, sys, zlib

directory = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
raw = gzip.open(f"{directory}/t10k-images-idx3-ubyte.gz").read()
image = lambda i: [list(raw[16 + i * 784 + r * 28:16 + i * 784 + r * 28 + 28]) for r in range(28)]
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Fixtures")

def png(path, rows, color):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    height, width = len(rows), len(rows[0]) // (3 if color else 1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2 if color else 0, 0, 0, 0)
    body = zlib.compress(b"".join(b"\0" + bytes(row) for row in rows))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))

png(f"{here}/ankle-boot.png", image(0), False)
big = []
for row in image(2):
    line = []
    for value in row:
        light = 255 - value
        line += [light, max(0, light - 20), max(0, light - 40)] * 3
    big += [line] * 3
png(f"{here}/trouser.png", big, True)
with open(f"{here}/pullover.pgm", "wb") as f:
    f.write(b"P5\n# Fashion-MNIST test image 1\n28 28\n255\n" + bytes(sum(image(1), [])))
with open(f"{here}/not-an-image.png", "w") as f:
    f.write("this is text, not a PNG\n")
