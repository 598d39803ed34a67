import { describe, expect, it } from 'vitest';
import { compileOk, expectDiagnostic, plan } from './helpers.js';

const net = (sections: string, input = '[8, 8, 3]') =>
  plan({
    data: '',
    network: `network input ${input} {\n${sections}\n}`,
    partitions: 'partition p1 = a .. z',
    schedule: 'schedule { train p1 for 1 epoch with msgd(lr: 0.1) }',
  });

describe('static shape inference', () => {
  it('infers conv, pooling and dense shapes', () => {
    const ir = compileOk(
      net('  a: conv(4, 3, stride: 2) maxpool avgpool(size: 1) conv(6, 3, padding: valid)\n  z: flatten dense(10)', '[16, 16, 3]'),
    );
    expect(ir.nodes.map((node) => node.shape)).toEqual([[8, 8, 4], [4, 4, 4], [4, 4, 4], [2, 2, 6], [24], [10]]);
  });

  it('reports a dense after a conv without flatten', () => {
    const text = net('  a: conv(64, 3, stride: 2) dense(10)\n  z: relu', '[32, 32, 3]');
    expectDiagnostic(text, {
      code: 'shape-mismatch',
      message: 'dense expects a flat input [n] but gets [16, 16, 64]; add flatten or global_avg_pool',
      at: 'dense(10)',
    });
  });

  it('reports a conv on a flat input', () => {
    expectDiagnostic(net('  a: flatten conv(4, 3)\n  z: dense(10)'), { code: 'shape-mismatch', message: 'conv expects an image input [h, w, c] but gets [192]', at: 'conv(4, 3)' });
  });

  it('reports pooling larger than its input, at the size argument', () => {
    expectDiagnostic(net('  a: maxpool(size: 16)\n  z: global_avg_pool dense(10)'), {
      code: 'shape-mismatch',
      message: 'maxpool of size 16 is larger than its input 8x8 (padding valid)',
      at: '16)',
    });
  });

  it('reports a valid conv kernel larger than its input', () => {
    expectDiagnostic(net('  a: conv(4, 9, padding: valid)\n  z: global_avg_pool dense(10)'), { code: 'shape-mismatch', message: 'conv kernel 9 is larger', at: '9, padding' });
  });

  it('reports only the first mismatch of a path', () => {
    const text = net('  a: dense(4) dense(4) conv(3, 3)\n  z: dense(10)');
    expectDiagnostic(text, { code: 'shape-mismatch', at: 'dense(4)' });
  });

  it('reports a residual whose branch changes shape with projection: false', () => {
    const text = net('  a: residual(projection: false) { conv(8, 3, stride: 2) }\n  z: global_avg_pool dense(10)');
    expectDiagnostic(text, {
      code: 'residual-shape-mismatch',
      message: 'the residual branch changes the shape from [8, 8, 3] to [4, 4, 8], but projection is false',
      at: 'residual(',
    });
  });

  it('reports a residual from an image to a flat vector', () => {
    expectDiagnostic(net('  a: residual { global_avg_pool }\n  z: dense(10)'), { code: 'residual-shape-mismatch', message: 'images to images', at: 'residual {', occurrence: 'last' });
  });

  it('reports a shared repeat whose body changes the shape', () => {
    const text = net('  a: repeat 3 shared { conv(8, 3) }\n  z: global_avg_pool dense(10)');
    expectDiagnostic(text, { code: 'shared-shape-change', message: 'changes [8, 8, 3] to [8, 8, 8]', at: 'repeat 3' });
  });

  it('reports a network that does not end in class scores', () => {
    expectDiagnostic(net('  a: conv(4, 3)\n  z: relu'), { code: 'output-not-flat', message: 'its output is [8, 8, 4]', at: 'relu\n}', occurrence: 'last' });
  });

  it('reports a proxy head that does not fit its partition output', () => {
    const text = plan({ blocks: 'block basic(f, stride = 1) { relu }\nhead flat(classes) { dense(classes) }', partitions: 'partition p1 = stem .. stage1 proxy flat(10)\npartition p2 = out' });
    expectDiagnostic(text, { code: 'shape-mismatch', message: "(in the proxy head of partition 'p1')", at: 'dense(classes)' });
  });

  it('reports a proxy head whose output differs from the network output', () => {
    const text = plan({ partitions: 'partition p1 = stem .. stage1 proxy gap(7)\npartition p2 = out' });
    expectDiagnostic(text, { code: 'head-shape-mismatch', message: "proxy head 'gap' outputs [7], but the network outputs [10]", at: 'gap(7)' });
  });

  it('reports a network input that is neither an image nor a vector', () => {
    expectDiagnostic(net('  a: relu\n  z: dense(10)', '[4, 4]'), { code: 'input-shape', at: '[4, 4]' });
  });
});

describe('limits and scoping', () => {
  it('refuses a network that expands past a million layers, quickly', () => {
    const start = performance.now();
    expectDiagnostic(net('  a: repeat 1000000000 relu\n  z: global_avg_pool dense(10)'), { code: 'plan-too-large', at: 'repeat' });
    expect(performance.now() - start).toBeLessThan(5000);
  });

  it('evaluates block defaults in order, so a default may use an earlier parameter', () => {
    const text = plan({
      blocks: 'block basic(f, g = f * 2) { conv(g, 1) }\nhead gap(classes) { global_avg_pool dense(classes) }',
      network: 'network input [8, 8, 3] {\n  stem: conv(4, 3)\n  stage1: basic(3)\n  out: global_avg_pool dense(10)\n}',
    });
    expect(compileOk(text).nodes[1]!.shape).toEqual([8, 8, 6]);
  });

  it('does not let a block body see the caller block parameters', () => {
    const text = plan({
      blocks: 'block inner() { conv(f, 1) }\nblock basic(f) { inner() }\nhead gap(classes) { global_avg_pool dense(classes) }',
      network: 'network input [8, 8, 3] {\n  stem: conv(4, 3)\n  stage1: basic(3)\n  out: global_avg_pool dense(10)\n}',
    });
    expectDiagnostic(text, { code: 'unknown-name', message: "unknown name 'f'", at: 'f, 1' });
  });
});
