#!/usr/bin/env python3
"""A mono plan rebuilt in PyTorch, for bench/vs-pytorch.ts (npm run bench:vs-pytorch).

The driver compiles a plan with mono's front end and writes an exchange folder:
plan.json (the IR, and per phase the parameters mono's optimizer updates with
their lr multipliers), the normalised training and hold-out data as raw
little-endian float32 / int32 files (NHWC, as mono holds them), each seed's
data order (every epoch of every phase, as mono's trainer draws it, plus the
per-example crop / flip it draws) and mono's initial weights for that seed.
This file rebuilds the network from the IR and trains it with mono's semantics:

- NCHW inside PyTorch; kernels and images are transposed on the way in and out,
  and `flatten` (and a dense layer on a feature map) flattens in NHWC order, so
  mono's dense kernels apply unchanged.
- 'same' padding as tfjs computes it: total (ceil(in/s) - 1) * s + k - in, the
  smaller half at the top / left (asymmetric for even totals), applied with
  F.pad when it is not symmetric. Max pooling pads with -inf, average pooling
  divides by the number of real pixels (as tfjs's cpu backend does).
- BatchNorm: training mode normalises with the batch's biased variance and
  updates moving = momentum * moving + (1 - momentum) * batch, also with the
  biased variance (Keras' convention, mono's); inference uses the moving ones.
- Partitions: frozen ones run first in inference mode without a tape; the
  trained ones and the head (the trained partition's proxy head, or the
  network's output) in training mode; the loss is mean softmax cross-entropy.
- msgd in velocity form with weight decay (src/optim/optimizers.ts):
  v' = mu * v - lr * mult * (g + wd * theta), theta' = theta + v'; sgd and adam
  (decoupled decay) as mono defines them. Fresh slots per phase.
- lr and momentum schedules evaluated per step at t = epoch + step / steps
  (src/optim/schedule.ts); plateau is fed the hold-out loss at each epoch end.

It runs as a server: one JSON request per line on stdin, one JSON answer per
line on stdout (log lines go to stderr). `python3 pytorch_replica.py schedule`
prints schedule values for a JSON request on stdin and needs no PyTorch.
"""
import json
import math
import os
import sys
import time
import traceback

# ------------------------------------------------------------------ schedules (pure Python)

EPSILON = sys.float_info.epsilon  # JavaScript's Number.EPSILON


class UnsupportedError(Exception):
    """Something in the plan this replica does not rebuild; the message says what."""


def _cosine_between(a, b, p):
    return a + ((b - a) * (1 - math.cos(math.pi * p))) / 2


def _linear_between(a, b, p):
    return a + (b - a) * p


def _clamp01(p):
    return min(1.0, max(0.0, p))


class _Stateless:
    def __init__(self, value_at):
        self.value_at = value_at

    def end_epoch(self, report):
        pass


class _Plateau:
    def __init__(self, spec, base):
        self.spec = spec
        self.value = base
        self.best = None
        self.bad = 0

    def value_at(self, t):
        return self.value

    def end_epoch(self, report):
        loss = report['val_loss']
        spec = self.spec
        improved = math.isfinite(loss) and (self.best is None or loss < self.best - spec['threshold'] * abs(self.best))
        if improved:
            self.best, self.bad = loss, 0
            return
        self.bad += 1
        if self.bad < spec['patience']:
            return
        self.value = min(self.value, max(self.value * spec['factor'], spec['min']))
        self.bad = 0


class _Warmup:
    def __init__(self, spec, base, epochs):
        self.spec = spec
        self.base = base
        self.rest = make_schedule(spec['then'], base, max(epochs - spec['epochs'], EPSILON))
        self.ended = 0

    def value_at(self, t):
        warm = self.spec['epochs']
        if t < warm:
            return _linear_between(self.spec['from'], self.base, t / warm)
        return self.rest.value_at(t - warm)

    def end_epoch(self, report):
        self.ended += 1
        if self.ended > self.spec['epochs']:
            self.rest.end_epoch(report)


def _onecycle(spec, base, fraction):
    if fraction < spec['pct']:
        return _cosine_between(base, spec['peak'], fraction / spec['pct'])
    if spec['pct'] >= 1:
        return spec['peak']
    return _cosine_between(spec['peak'], spec['end'], _clamp01((fraction - spec['pct']) / (1 - spec['pct'])))


def _anneal(spec, base, fraction):
    if fraction < spec['from'] or spec['from'] >= 1:
        return base
    p = _clamp01((fraction - spec['from']) / (1 - spec['from']))
    return _cosine_between(base, spec['to'], p) if spec['shape'] == 'cosine' else _linear_between(base, spec['to'], p)


def make_schedule(spec, base, epochs):
    """mono's createSchedule (src/optim/schedule.ts) for every schedule but the MI-driven ones."""
    if not epochs > 0:
        raise ValueError('a schedule needs a phase of > 0 epochs, got %r' % epochs)
    kind = spec['type']
    if kind == 'constant':
        return _Stateless(lambda t: base)
    if kind == 'step':
        return _Stateless(lambda t: base * spec['factor'] ** math.floor(t / spec['every']))
    if kind == 'multistep':
        return _Stateless(lambda t: base * spec['factor'] ** len([m for m in spec['milestones'] if m <= t]))
    if kind == 'exponential':
        return _Stateless(lambda t: base * spec['gamma'] ** math.floor(t))
    if kind == 'cosine':
        return _Stateless(lambda t: _cosine_between(base, spec['to'], _clamp01(t / epochs)))
    if kind == 'linear':
        return _Stateless(lambda t: _linear_between(base, spec['to'], _clamp01(t / epochs)))
    if kind == 'warmup':
        return _Warmup(spec, base, epochs)
    if kind == 'onecycle':
        return _Stateless(lambda t: _onecycle(spec, base, _clamp01(t / epochs)))
    if kind == 'anneal':
        return _Stateless(lambda t: _anneal(spec, base, _clamp01(t / epochs)))
    if kind == 'plateau':
        return _Plateau(spec, base)
    raise UnsupportedError("schedule '%s' is not rebuilt in the PyTorch replica (MI-driven schedules need mono's MI estimator)" % kind)


def schedule_values(request):
    """Values of a schedule at the given t, with epoch ends fed in between (for the tests)."""
    schedule = make_schedule(request['spec'], request['base'], request['epochs'])
    values = []
    for item in request['points']:
        if 'end_epoch' in item:
            schedule.end_epoch({'val_loss': item['end_epoch']})
        else:
            values.append(schedule.value_at(item['t']))
    return values


# ------------------------------------------------------------------ everything below needs PyTorch

torch = None
F = None
np = None


def _import_torch():
    global torch, F, np
    if torch is None:
        import numpy
        import torch as _torch
        import torch.nn.functional as _functional
        torch, F, np = _torch, _functional, numpy
        torch.set_num_interop_threads(1)


def log(message):
    print('[pytorch] ' + message, file=sys.stderr, flush=True)


def same_pads(size, kernel, stride):
    """tfjs's 'same' padding along one axis: (before, after), the extra pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _pair(value, fallback):
    if isinstance(value, (int, float)):
        return int(value), int(value)
    if isinstance(value, list) and len(value) >= 2:
        return int(value[0]), int(value[1])
    if isinstance(value, list) and len(value) == 1:
        return int(value[0]), int(value[0])
    return fallback, fallback


def _num(node, name, fallback):
    value = node['attrs'].get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return fallback if value is None else float(value)


def read_weights(folder, stem):
    """A weights file pair: STEM.json [{name, shape, offset, length}] and STEM.f32 (mono's layouts)."""
    index = json.load(open(os.path.join(folder, stem + '.json')))
    values = np.fromfile(os.path.join(folder, stem + '.f32'), dtype='<f4')
    return {e['name']: values[e['offset']:e['offset'] + e['length']].reshape(e['shape']) for e in index}


def write_weights(folder, stem, arrays):
    index, offset = [], 0
    with open(os.path.join(folder, stem + '.f32'), 'wb') as out:
        for name, array in arrays.items():
            flat = np.ascontiguousarray(array, dtype='<f4').reshape(-1)
            out.write(flat.tobytes())
            index.append({'name': name, 'shape': list(array.shape), 'offset': offset, 'length': int(flat.size)})
            offset += int(flat.size)
    with open(os.path.join(folder, stem + '.json'), 'w') as out:
        json.dump(index, out)


class _BinaryStep(object):
    """Step activation with the surrogate gradient 1 on [0, tau/4] (mono's `binary`)."""

    @staticmethod
    def make():
        class Binary(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, tau):
                ctx.save_for_backward(x)
                ctx.tau = tau
                return (x > 0).to(x.dtype)

            @staticmethod
            def backward(ctx, dy):
                (x,) = ctx.saved_tensors
                inside = (x >= 0) & (x <= ctx.tau / 4)
                return dy * inside.to(dy.dtype), None

        return Binary


class Replica:
    """The IR's network as PyTorch tensors: one tensor per ParamSpec name (shared groups are one tensor)."""

    def __init__(self, plan, init, folder, seed):
        self.ir = plan['ir']
        self.plan = plan
        ir = self.ir
        self.nodes = {n['id']: n for n in ir['nodes']}
        self.partitions = {p['name']: p for p in ir['partitions']}
        self.order = [p['name'] for p in ir['partitions']]
        shapes = {'input': ir['input']['shape']}
        for node in ir['nodes']:
            shapes[node['id']] = node['shape']
        heads = [p['head'] for p in ir['partitions'] if p.get('head')]
        for head in heads:
            for node in head['nodes']:
                shapes[node['id']] = node['shape']
        self.shapes = shapes
        # Conv kernels are stored [out, in, kh, kw] here, [kh, kw, in, out] in mono; fan-in of
        # every conv / dense kernel and bias, for PyTorch's default initialisation.
        self.conv_kernels = set()
        self.fan_in = {}
        for node in ir['nodes'] + [n for h in heads for n in h['nodes']]:
            if node['op'] in ('conv2d', 'dense') and node['params']:
                kernel_shape = next(s['shape'] for s in ir['parameters'] if s['name'] == node['params'][0])
                for name in node['params']:
                    self.fan_in[name] = int(np.prod(kernel_shape[:-1]))
                if node['op'] == 'conv2d':
                    self.conv_kernels.add(node['params'][0])
        self.binary = None
        self.params = {}
        self.specs = {}
        mono_weights = read_weights(os.path.join(folder, 'seed-%d' % seed), 'init') if init == 'mono' else None
        generator = torch.Generator().manual_seed(seed)
        for spec in ir['parameters']:
            name = spec['name']
            if name in self.params:
                continue
            self.specs[name] = spec
            if mono_weights is not None:
                value = self.to_torch_layout(name, torch.from_numpy(mono_weights[name].copy()))
            else:
                value = self.torch_default(spec, generator)
            value = value.contiguous()
            value.requires_grad_(spec['trainable'])
            self.params[name] = value

    # -------------------------------------------------------------- layouts and initialisation

    def to_torch_layout(self, name, value):
        return value.permute(3, 2, 0, 1) if name in self.conv_kernels else value

    def to_mono_layout(self, name, value):
        return value.permute(2, 3, 1, 0) if name in self.conv_kernels else value

    def torch_default(self, spec, generator):
        """PyTorch's own defaults: conv / linear weights and biases U(+-1/sqrt(fan_in)), BatchNorm 1 and 0."""
        shape = spec['shape']
        fan_in = self.fan_in.get(spec['name'])
        if fan_in is not None and spec['trainable']:
            torch_shape = [shape[3], shape[2], shape[0], shape[1]] if spec['name'] in self.conv_kernels else shape
            return (torch.rand(torch_shape, generator=generator) * 2 - 1) / math.sqrt(fan_in)
        if spec['init'] == 'ones':
            return torch.ones(shape)
        return torch.zeros(shape)

    def to_device(self, device):
        """Every parameter onto `device` (e.g. 'cuda'), keeping which ones train."""
        for name, value in list(self.params.items()):
            self.params[name] = value.detach().to(device).requires_grad_(value.requires_grad)

    def weights_mono_layout(self):
        return {name: self.to_mono_layout(name, value.detach()).contiguous().numpy() for name, value in self.params.items()}

    # -------------------------------------------------------------- forward

    def _input_shape(self, node):
        return self.shapes[node['inputs'][0]]

    def run_node(self, node, env, training):
        x = env[node['inputs'][0]]
        op = node['op']
        attrs = node['attrs']
        p = [self.params[name] for name in node['params']]
        if op == 'conv2d':
            stride = _pair(attrs.get('stride'), 1)
            kh, kw = p[0].shape[2], p[0].shape[3]
            bias = p[1] if len(p) > 1 else None
            if attrs.get('padding') == 'valid':
                return F.conv2d(x, p[0], bias, stride)
            h, w = self._input_shape(node)[0], self._input_shape(node)[1]
            top, bottom = same_pads(h, kh, stride[0])
            left, right = same_pads(w, kw, stride[1])
            if top == bottom and left == right:
                return F.conv2d(x, p[0], bias, stride, (top, left))
            return F.conv2d(F.pad(x, (left, right, top, bottom)), p[0], bias, stride)
        if op == 'dense':
            flat = x if x.dim() == 2 else self._flatten(x)
            return torch.addmm(p[1], flat, p[0]) if len(p) > 1 else flat.mm(p[0])
        if op == 'batchnorm':
            return self._batchnorm(node, x, p, training)
        if op == 'relu':
            return F.relu(x)
        if op == 'leaky_relu':
            return F.leaky_relu(x, _num(node, 'alpha', 0.2))
        if op == 'elu':
            return F.elu(x)
        if op == 'gelu':
            return F.gelu(x, approximate='tanh')
        if op == 'swish':
            return x * torch.sigmoid(x)
        if op == 'sigmoid':
            return torch.sigmoid(x)
        if op == 'tanh':
            return torch.tanh(x)
        if op == 'binary':
            if self.binary is None:
                self.binary = _BinaryStep.make()
            return self.binary.apply(x, _num(node, 'tau', 1))
        if op in ('maxpool', 'avgpool'):
            return self._pool(node, x)
        if op == 'global_avg_pool':
            return x.mean((2, 3))
        if op == 'global_max_pool':
            return x.amax((2, 3))
        if op == 'flatten':
            return self._flatten(x)
        if op == 'dropout':
            rate = _num(node, 'rate', 0.5)
            return F.dropout(x, rate, True) if training and rate > 0 else x
        if op == 'add':
            branch = env[node['inputs'][1]]
            scale = _num(node, 'scale', 1)
            return x + (branch if scale == 1 else branch * scale)
        raise UnsupportedError("op '%s' (node %s) is not rebuilt in the PyTorch replica" % (op, node['id']))

    @staticmethod
    def _flatten(x):
        # mono flattens NHWC: channels last, so its dense kernels' rows are in that order.
        return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1) if x.dim() == 4 else x.reshape(x.shape[0], -1)

    def _batchnorm(self, node, x, p, training):
        gamma, beta, moving_mean, moving_variance = p
        epsilon = _num(node, 'epsilon', 1e-3)
        if not training:
            return F.batch_norm(x, moving_mean, moving_variance, gamma, beta, False, 0.0, epsilon)
        momentum = _num(node, 'momentum', 0.99)
        y = F.batch_norm(x, None, None, gamma, beta, True, 0.0, epsilon)
        with torch.no_grad():
            dims = [0] + list(range(2, x.dim()))
            variance, mean = torch.var_mean(x, dim=dims, unbiased=False)
            moving_mean.mul_(momentum).add_(mean, alpha=1 - momentum)
            moving_variance.mul_(momentum).add_(variance, alpha=1 - momentum)
        return y

    def _pool(self, node, x):
        attrs = node['attrs']
        size = _pair(attrs.get('size'), 2)
        stride = _pair(attrs.get('stride'), size[0])
        is_max = node['op'] == 'maxpool'
        pads = (0, 0, 0, 0)
        if attrs.get('padding') != 'valid':
            h, w = self._input_shape(node)[0], self._input_shape(node)[1]
            top, bottom = same_pads(h, size[0], stride[0])
            left, right = same_pads(w, size[1], stride[1])
            pads = (left, right, top, bottom)
        if not any(pads):
            return F.max_pool2d(x, size, stride) if is_max else F.avg_pool2d(x, size, stride)
        if is_max:
            return F.max_pool2d(F.pad(x, pads, value=-math.inf), size, stride)
        # Average over the real pixels only: sum of the zero-padded window / count of real pixels in it.
        sums = F.avg_pool2d(F.pad(x, pads), size, stride, divisor_override=1)
        counts = F.avg_pool2d(F.pad(torch.ones_like(x[:1, :1]), pads), size, stride, divisor_override=1)
        return sums / counts

    def run_partition(self, name, x, training):
        partition = self.partitions[name]
        env = {partition['input']: x}
        for node_id in partition['nodes']:
            node = self.nodes[node_id]
            env[node_id] = self.run_node(node, env, training)
        return env[partition['output']]

    def run_partitions(self, names, x, training):
        for name in names:
            x = self.run_partition(name, x, training)
        return x

    def run_head(self, partition_name, feature, training):
        partition = self.partitions[partition_name]
        head = partition['head']
        env = {partition['output']: feature}
        for node in head['nodes']:
            env[node['id']] = self.run_node(node, env, training)
        return env[head['output']]


# ------------------------------------------------------------------ phases and training


# Hold-out evaluation batch. mono uses 500; PyTorch is given 250, whose largest activation
# (12.5 MB for the quickstart) stays within the malloc heap the driver sets up
# (bench/pytorch/python.ts, replicaEnv); at 500 an evaluation of the 1,000 hold-out
# digits took 1.1 s instead of 0.23 s even so.
EVAL_BATCH = 250


class PhaseRunner:
    """One phase of the plan: the graph it runs (as mono's phaseGraph) and a fresh optimizer."""

    def __init__(self, replica, phase, trained):
        self.replica = replica
        self.phase = phase
        order = replica.order
        self.frozen = list(phase['frozen'])
        self.trainable = list(phase['trainable'])
        last = self.trainable[-1]
        if phase['head'] == 'proxy':
            self.head = phase['partition'] or last
        else:
            self.head = None
            if last != order[-1]:
                raise UnsupportedError('phase %s trains through the network output but stops at %s' % (phase['name'], last))
        self.names = [entry['name'] for entry in trained]
        self.tensors = [replica.params[name] for name in self.names]
        self.mults = [entry['mult'] for entry in trained]
        self.optimizer = phase['optimizer']
        if self.optimizer['type'] not in ('msgd', 'sgd', 'adam'):
            raise UnsupportedError("optimizer '%s' is not rebuilt" % self.optimizer['type'])
        if self.optimizer.get('lars'):
            raise UnsupportedError('LARS is not rebuilt in the PyTorch replica')
        self.first = [torch.zeros_like(t) for t in self.tensors] if self.optimizer['type'] in ('msgd', 'adam') else None
        self.second = [torch.zeros_like(t) for t in self.tensors] if self.optimizer['type'] == 'adam' else None
        self.beta1_power = 1.0
        self.beta2_power = 1.0
        base_momentum = self.optimizer['beta1'] if self.optimizer['type'] == 'adam' else self.optimizer['momentum']
        self.lr = make_schedule(phase['lr'], self.optimizer['lr'], phase['epochs'])
        self.momentum = make_schedule(phase['momentum'], base_momentum, phase['epochs'])

    def logits(self, images, training):
        r = self.replica
        if training:
            with torch.no_grad():
                x = r.run_partitions(self.frozen, images, False)
            features = r.run_partitions(self.trainable, x, True)
        else:
            features = r.run_partitions(self.frozen + self.trainable, images, False)
        return r.run_head(self.head, features, training) if self.head else features

    def step(self, images, labels, lr, momentum):
        logits = self.logits(images, True)
        loss = F.cross_entropy(logits, labels)
        grads = torch.autograd.grad(loss, self.tensors)
        with torch.no_grad():
            correct = (logits.argmax(1) == labels).sum()
            value = float(loss)
            if math.isfinite(value):
                self._update(grads, lr, momentum)
        return value, int(correct)

    def _update(self, grads, lr, momentum):
        spec = self.optimizer
        decay = spec['weightDecay']
        thetas = self.tensors
        if spec['type'] == 'adam':
            self.beta1_power *= momentum
            self.beta2_power *= spec['beta2']
            for i, (theta, g) in enumerate(zip(thetas, grads)):
                m, v = self.first[i], self.second[i]
                m.mul_(momentum).add_(g, alpha=1 - momentum)
                v.mul_(spec['beta2']).add_(g * g, alpha=1 - spec['beta2'])
                direction = (m / (1 - self.beta1_power)) / ((v / (1 - self.beta2_power)).sqrt() + spec['epsilon'])
                if decay > 0:
                    direction = direction + theta * decay
                theta.sub_(direction * (lr * self.mults[i]))
            return
        directions = torch._foreach_add(list(grads), thetas, alpha=decay) if decay > 0 else list(grads)
        uniform = all(m == 1 for m in self.mults)
        if spec['type'] == 'sgd':
            if uniform:
                torch._foreach_add_(thetas, directions, alpha=-lr)
            else:
                for theta, d, mult in zip(thetas, directions, self.mults):
                    theta.add_(d, alpha=-lr * mult)
            return
        velocities = self.first
        torch._foreach_mul_(velocities, momentum)
        if uniform:
            torch._foreach_add_(velocities, directions, alpha=-lr)
        else:
            for v, d, mult in zip(velocities, directions, self.mults):
                v.add_(d, alpha=-lr * mult)
        torch._foreach_add_(thetas, velocities)

    def evaluate(self, images, labels, batch=EVAL_BATCH, view=None):
        """Loss and top-1 of this phase's head (or of `view`: (frozen, head)) in inference mode."""
        r = self.replica
        loss_sum, correct = 0.0, 0
        count = images.shape[0]
        with torch.no_grad():
            for start in range(0, count, batch):
                x = images[start:start + batch]
                y = labels[start:start + batch]
                if view is None:
                    logits = self.logits(x, False)
                else:
                    features = r.run_partitions(view[0], x, False)
                    logits = r.run_head(view[1], features, False) if view[1] else features
                loss_sum += float(F.cross_entropy(logits, y, reduction='sum'))
                correct += int((logits.argmax(1) == y).sum())
        return {'loss': loss_sum / count if count else float('nan'), 'acc': correct / count if count else float('nan')}

    def own_head_views(self):
        """mono's groupReports: in a multi-partition phase, every other trained partition through its own head."""
        r = self.replica
        last = r.order[-1]
        views = []
        for group in self.trainable:
            trained_head = (group == last) if self.head is None else (group == self.head)
            if trained_head:
                continue
            index = r.order.index(group)
            if group != last and not r.partitions[group].get('head'):
                continue
            views.append((group, (r.order[:index + 1], None if group == last else group)))
        return views


class Server:
    def __init__(self):
        self.folder = None
        self.plan = None
        self.data = None

    def load(self, request):
        _import_torch()
        folder = request['folder']
        self.folder = folder
        self.plan = json.load(open(os.path.join(folder, 'plan.json')))
        splits = {}
        for split in ('train', 'holdout'):
            meta = self.plan['data'][split]
            count = meta['count']
            h, w, c = meta['shape']
            images = np.fromfile(os.path.join(folder, split + '.images.f32'), dtype='<f4').reshape(count, h, w, c)
            labels = np.fromfile(os.path.join(folder, split + '.labels.i32'), dtype='<i4')
            # Plain NCHW strides: with one channel a permuted tensor also passes as channels_last,
            # and slices of it would take PyTorch's channels_last kernels.
            nchw = torch.empty((count, c, h, w), memory_format=torch.contiguous_format)
            nchw.copy_(torch.from_numpy(images).permute(0, 3, 1, 2))
            splits[split] = (nchw, torch.from_numpy(labels.astype(np.int64)))
        self.data = splits
        return {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'blas': _blas_info()}

    def _replica(self, request):
        torch.set_num_threads(int(request.get('threads', 1)))
        seed = int(request['seed'])
        torch.manual_seed(seed)
        return Replica(self.plan, request.get('init', 'mono'), self.folder, seed)

    def _phase(self, replica, name):
        phase = next((p for p in self.plan['ir']['phases'] if p['name'] == name), None)
        if phase is None:
            phase = self.plan['extraPhases'][name]
        return PhaseRunner(replica, phase, self.plan['trained'][name])

    def time_steps(self, request):
        """Per-step milliseconds of one phase on random data (values do not matter for time).

        `device` (default 'cpu'): where the parameters, the batch and the step run, e.g.
        'cuda' (scripts/gpu-check.sh); each step ends by reading the loss (float(loss)),
        which waits for the device, as mono's step does.
        """
        device = request.get('device', 'cpu')
        if device.startswith('cuda') and not torch.cuda.is_available():
            raise UnsupportedError('device %s: this PyTorch (%s) sees no CUDA device' % (device, torch.__version__))
        replica = self._replica(request)
        if device != 'cpu':
            replica.to_device(device)
        runner = self._phase(replica, request['phase'])
        batch = int(request['batch'])
        h, w, c = self.plan['ir']['input']['shape']
        generator = torch.Generator().manual_seed(int(request['seed']))
        images = torch.randn(batch, c, h, w, generator=generator).to(device)
        labels = torch.randint(0, self.plan['ir']['classes'], (batch,), generator=generator).to(device)
        lr = self.plan['ir']['phases'][0]['optimizer']['lr'] if self.plan['ir']['phases'] else 0.01
        times = []
        for i in range(int(request.get('warmup', 1)) + int(request['steps'])):
            started = time.perf_counter()
            runner.step(images, labels, lr, 0.9)
            elapsed = (time.perf_counter() - started) * 1000
            if i >= int(request.get('warmup', 1)):
                times.append(elapsed)
        answer = {'ms': times, 'threads': torch.get_num_threads(), 'device': device}
        if device.startswith('cuda'):
            answer['gpu'] = torch.cuda.get_device_name(0)
            answer['peak_bytes'] = torch.cuda.max_memory_allocated()
        return answer

    def recipe(self, request):
        """The plan's whole schedule on the exchange folder's data, in mono's data order for the seed."""
        started = time.perf_counter()
        replica = self._replica(request)
        seed = int(request['seed'])
        seed_folder = os.path.join(self.folder, 'seed-%d' % seed)
        schedule = json.load(open(os.path.join(seed_folder, 'order.json')))
        order = torch.from_numpy(np.fromfile(os.path.join(seed_folder, 'order.i32'), dtype='<i4').astype(np.int64))
        augment = self.plan['ir']['data']['augment']
        moves = None
        if augment:
            moves = np.fromfile(os.path.join(seed_folder, 'augment.i8'), dtype='i1').reshape(-1, 3)
        train_images, train_labels = self.data['train']
        holdout_images, holdout_labels = self.data['holdout']
        batch = self.plan['ir']['data']['batch']
        record_losses = bool(request.get('losses'))
        weights_folder = request.get('weightsFolder')
        epochs_out, losses = [], []
        for phase in self.plan['ir']['phases']:
            runner = self._phase(replica, phase['name'])
            for epoch in range(phase['epochs']):
                entry = schedule['epochs'][len(epochs_out)]
                offset, count, steps = entry['offset'], entry['count'], entry['steps']
                epoch_started = time.perf_counter()
                loss_sum, correct, examples = 0.0, 0, 0
                for step in range(steps):
                    lo = offset + step * batch
                    hi = offset + min((step + 1) * batch, count)
                    index = order[lo:hi]
                    images = train_images.index_select(0, index)
                    if moves is not None:
                        images = apply_augmentation(images, moves[lo:hi], augment)
                    labels = train_labels.index_select(0, index)
                    t = epoch + step / steps
                    loss, right = runner.step(images, labels, runner.lr.value_at(t), runner.momentum.value_at(t))
                    if not math.isfinite(loss):
                        raise RuntimeError('loss became %r in phase %s, epoch %d, step %d' % (loss, phase['name'], epoch + 1, step + 1))
                    if record_losses:
                        losses.append(loss)
                    loss_sum += loss * (hi - lo)
                    correct += right
                    examples += hi - lo
                seconds = time.perf_counter() - epoch_started
                holdout = runner.evaluate(holdout_images, holdout_labels) if holdout_images.shape[0] else None
                for _group, view in runner.own_head_views():
                    if holdout is not None:
                        runner.evaluate(holdout_images, holdout_labels, view=view)
                report = {'val_loss': holdout['loss'] if holdout else loss_sum / examples}
                runner.lr.end_epoch(report)
                runner.momentum.end_epoch(report)
                epochs_out.append({
                    'phase': phase['name'], 'epoch': epoch + 1, 'loss': loss_sum / examples, 'acc': correct / examples,
                    'val_loss': holdout['loss'] if holdout else None, 'val_acc': holdout['acc'] if holdout else None,
                    'seconds': seconds,
                })
                log('%s epoch %d/%d: loss %.4f, hold-out acc %s (%.1f s)' % (
                    phase['name'], epoch + 1, phase['epochs'], loss_sum / examples,
                    '%.4f' % holdout['acc'] if holdout else '-', seconds))
            if weights_folder:
                write_weights(weights_folder, 'after-' + phase['name'], replica.weights_mono_layout())
        return {'wall_s': time.perf_counter() - started, 'epochs': epochs_out, 'losses': losses, 'threads': torch.get_num_threads()}


def apply_augmentation(images, moves, augment):
    """mono's crop (shift with zeros) and flip, per example, in the plan's order; moves[k] = (dy, dx, flip)."""
    out = images.clone()
    n, _c, h, w = out.shape
    for step in augment:
        if step['type'] == 'crop':
            shifted = torch.zeros_like(out)
            for k in range(n):
                dy, dx = int(moves[k][0]), int(moves[k][1])
                if dy == 0 and dx == 0:
                    shifted[k] = out[k]
                    continue
                y0, y1 = max(0, -dy), min(h, h - dy)
                x0, x1 = max(0, -dx), min(w, w - dx)
                if y1 > y0 and x1 > x0:
                    shifted[k, :, y0:y1, x0:x1] = out[k, :, y0 + dy:y1 + dy, x0 + dx:x1 + dx]
            out = shifted
        elif step['type'] == 'flip':
            flips = torch.from_numpy(np.nonzero(moves[:, 2])[0].astype(np.int64))
            if flips.numel():
                out[flips] = out[flips].flip(3)
    return out


def _blas_info():
    """The BLAS libraries mapped into this process after a matrix product (Linux); Debian's torch
    falls back to the slow reference BLAS unless libopenblas0-pthread is installed."""
    torch.ones(64, 64).mm(torch.ones(64, 64))
    try:
        with open('/proc/self/maps') as maps:
            paths = {line.split()[-1] for line in maps if 'blas' in line.lower() and '/' in line}
        return sorted(paths)
    except OSError:
        return []


def serve():
    server = Server()
    handlers = {'load': server.load, 'time_steps': server.time_steps, 'recipe': server.recipe}
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        request = json.loads(line)
        try:
            if request.get('cmd') == 'quit':
                print(json.dumps({'ok': True}), flush=True)
                return
            result = handlers[request['cmd']](request)
            answer = {'ok': True, 'result': result}
        except UnsupportedError as error:
            answer = {'ok': False, 'error': str(error), 'unsupported': True}
        except Exception as error:  # the driver reports it
            answer = {'ok': False, 'error': '%s: %s' % (type(error).__name__, error), 'trace': traceback.format_exc()}
        print(json.dumps(answer), flush=True)


def main(argv):
    if len(argv) > 1 and argv[1] == 'schedule':
        print(json.dumps(schedule_values(json.load(sys.stdin))))
        return 0
    if len(argv) > 1 and argv[1] == 'serve':
        serve()
        return 0
    print('usage: pytorch_replica.py serve | schedule  (started by bench/vs-pytorch.ts)', file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
