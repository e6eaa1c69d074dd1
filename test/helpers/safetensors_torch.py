"""PyTorch's side of the safetensors round trip (test/golden/safetensors.test.ts).

The d2l "Dropout" models written in torch exactly as the book writes them, so their state_dict() names
are PyTorch's own, and the published safetensors layout in plain Python (the reference `safetensors`
package is not in Debian bookworm): 8-byte little-endian header length, JSON header, space padding to
8 bytes, contiguous little-endian data.

  logits ARCH WEIGHTS.safetensors X.f32 N OUT.f32   load (strict) and write eval-mode logits of X
  make ARCH SEED OUT.safetensors X.f32 N OUT.f32    make a seeded torch model, save it, write its logits
  batch COMMANDS.jsonl                              run each line's [command, args...] in one process
"""
import json
import struct
import sys

import torch
from torch import nn


class DropoutMLPScratch(nn.Module):
    def __init__(self, h1=256, h2=256, p1=0.5, p2=0.5):
        super().__init__()
        self.lin1, self.lin2, self.lin3 = nn.Linear(784, h1), nn.Linear(h1, h2), nn.Linear(h2, 10)
        self.p1, self.p2 = p1, p2

    def forward(self, X):
        H1 = torch.relu(self.lin1(X.reshape((X.shape[0], -1))))
        if self.training:
            H1 = nn.functional.dropout(H1, self.p1)
        H2 = torch.relu(self.lin2(H1))
        if self.training:
            H2 = nn.functional.dropout(H2, self.p2)
        return self.lin3(H2)


class DropoutMLP(nn.Module):
    def __init__(self, h1=256, h2=256, p1=0.5, p2=0.5):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(784, h1), nn.ReLU(), nn.Dropout(p1),
            nn.Linear(h1, h2), nn.ReLU(), nn.Dropout(p2), nn.Linear(h2, 10))

    def forward(self, X):
        return self.net(X)


class MLP(nn.Module):
    def __init__(self, h1=256, h2=256):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(784, h1), nn.ReLU(), nn.Linear(h1, h2), nn.ReLU(), nn.Linear(h2, 10))

    def forward(self, X):
        return self.net(X)


MODELS = {'dropout-mlp': DropoutMLP, 'dropout-mlp-scratch': DropoutMLPScratch, 'mlp': MLP}


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n].decode('utf-8'))
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        assert info['dtype'] == 'F32', info
        begin, end = info['data_offsets']
        out[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(info['shape'])
    return out


def write_safetensors(path, state, metadata):
    header, chunks, offset = {'__metadata__': metadata}, [], 0
    for name in sorted(state):
        t = state[name].detach().to(torch.float32).contiguous()
        b = t.numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(chunks))


def logits_of(model, x_path, n, out_path):
    X = torch.frombuffer(bytearray(open(x_path, 'rb').read()), dtype=torch.float32).reshape(n, 1, 28, 28)
    with torch.no_grad():
        Y = model.eval()(X)
    with open(out_path, 'wb') as f:
        f.write(Y.numpy().astype('<f4').tobytes())


def main(argv):
    if argv[0] == 'batch':
        # One process for many commands: importing torch is the slow part.
        for line in open(argv[1]).read().splitlines():
            if line.strip():
                main(json.loads(line))
    elif argv[0] == 'logits':
        _, arch, weights, x_path, n, out_path = argv
        model = MODELS[arch]()
        model.load_state_dict(read_safetensors(weights), strict=True)
        logits_of(model, x_path, int(n), out_path)
    elif argv[0] == 'make':
        _, arch, seed, weights, x_path, n, out_path = argv
        torch.manual_seed(int(seed))
        model = MODELS[arch]()
        write_safetensors(weights, model.state_dict(), {'format': 'pt'})
        logits_of(model, x_path, int(n), out_path)
    else:
        raise SystemExit(f'unknown command {argv[0]}')


if __name__ == '__main__':
    main(sys.argv[1:])
