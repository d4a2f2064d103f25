# Optional reference: PyTorch CPU training throughput of the fmnist-vgg architecture.
# Run by bench/run.ts only if python3 can import torch; prints one JSON line.
import json, sys, time
import torch, torch.nn as nn

torch.manual_seed(0)
batch, steps, warmup = int(sys.argv[1]), int(sys.argv[2]), 2
layers, cin = [], 1
for ch in (32, 64, 128):
    for _ in range(2):
        layers += [nn.Conv2d(cin, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch), nn.ReLU()]
        cin = ch
    layers.append(nn.MaxPool2d(2))
layers += [nn.Flatten(), nn.Dropout(0.3), nn.Linear(1152, 128, bias=False), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10)]
model = nn.Sequential(*layers)
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
x, y = torch.rand(batch, 1, 28, 28), torch.randint(0, 10, (batch,))
times = []
for i in range(warmup + steps):
    t = time.perf_counter()
    opt.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
    if i >= warmup:
        times.append(time.perf_counter() - t)
times.sort()
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "batch": batch, "medianStepMs": 1000 * times[len(times) // 2]}))
