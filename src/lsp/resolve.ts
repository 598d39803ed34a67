/**
 * Which name refers to which declaration, for go-to-definition and find-references:
 * blocks and heads (one namespace), plan params, the parameters of a block or head,
 * sections and partitions. Names resolve as the compiler resolves them: a block body
 * sees its own parameters before the plan params; the first of two equal
 * definitions wins. Words that name nothing (`same`, `cosine`, a layer) have no
 * definition and are left out.
 */
import type * as Ast from '../syntax/ast.js';
import type { SourceRange } from '../syntax/location.js';
import { walk } from '../syntax/walk.js';

export type DefinitionKind = 'param' | 'block' | 'head' | 'parameter' | 'section' | 'partition';

export interface Definition {
  kind: DefinitionKind;
  name: string;
  /** The defining name. */
  identifier: Ast.Identifier;
  /** The declaration it names (the block for a block, the ParameterDefinition for a parameter, ...). */
  node: Ast.AstNode;
}

export interface Occurrence {
  range: SourceRange;
  definition: Definition;
  isDeclaration: boolean;
}

export interface Resolution {
  occurrences: Occurrence[];
  /** Blocks and heads by name (they share one namespace). */
  layerDefinitions: Map<string, Definition>;
  params: Map<string, Definition>;
  sections: Map<string, Definition>;
  partitions: Map<string, Definition>;
}

type Scope = ReadonlyMap<string, Definition>;

export function resolvePlan(plan: Ast.Plan): Resolution {
  const occurrences: Occurrence[] = [];
  const layerDefinitions = new Map<string, Definition>();
  const params = new Map<string, Definition>();
  const sections = new Map<string, Definition>();
  const partitions = new Map<string, Definition>();
  const parameterScopes = new Map<Ast.BlockDeclaration | Ast.HeadDeclaration, Map<string, Definition>>();

  const define = (table: Map<string, Definition>, kind: DefinitionKind, identifier: Ast.Identifier, node: Ast.AstNode): void => {
    const definition: Definition = { kind, name: identifier.name, identifier, node };
    if (!table.has(identifier.name)) table.set(identifier.name, definition);
    occurrences.push({ range: identifier.loc, definition, isDeclaration: true });
  };
  const use = (definition: Definition | undefined, range: SourceRange): void => {
    if (definition !== undefined) occurrences.push({ range, definition, isDeclaration: false });
  };

  // Definitions first: a use may come before its declaration in the file.
  for (const declaration of plan.declarations) {
    switch (declaration.kind) {
      case 'Param':
        define(params, 'param', declaration.name, declaration);
        break;
      case 'Block':
      case 'Head': {
        define(layerDefinitions, declaration.kind === 'Block' ? 'block' : 'head', declaration.name, declaration);
        const own = new Map<string, Definition>();
        for (const parameter of declaration.params) define(own, 'parameter', parameter.name, parameter);
        parameterScopes.set(declaration, own);
        break;
      }
      case 'Network':
        for (const section of declaration.sections) define(sections, 'section', section.name, section);
        break;
      case 'Partition':
        define(partitions, 'partition', declaration.name, declaration);
        break;
      default:
        break;
    }
  }

  const expression = (node: Ast.Expression, scope: Scope): void => {
    walk(node, (inner) => {
      if (inner.kind === 'Ref') use(scope.get(inner.name) ?? params.get(inner.name), inner.loc);
    });
  };
  const args = (list: readonly Ast.Argument[], scope: Scope, callee?: Ast.BlockDeclaration | Ast.HeadDeclaration): void => {
    for (const argument of list) {
      if (argument.name !== undefined && callee !== undefined) use(parameterScopes.get(callee)?.get(argument.name.name), argument.name.loc);
      expression(argument.value, scope);
    }
  };
  const layerCall = (call: Ast.LayerCall, scope: Scope): void => {
    const definition = layerDefinitions.get(call.callee.name);
    use(definition, call.callee.loc);
    const callee = definition?.node.kind === 'Block' || definition?.node.kind === 'Head' ? definition.node : undefined;
    args(call.args, scope, callee);
  };
  const items = (list: readonly Ast.LayerItem[], scope: Scope): void => {
    for (const item of list) {
      if (item.kind === 'LayerCall') {
        layerCall(item, scope);
        continue;
      }
      if (item.kind === 'Repeat') {
        expression(item.count, scope);
        if (item.shared) args(item.shared.args, scope);
      } else {
        args(item.args, scope);
      }
      items(item.body, scope);
    }
  };
  const settings = (list: readonly Ast.Setting[]): void => {
    for (const setting of list) {
      const [first, ...rest] = setting.values;
      // `lr_mult stem, 0.1`: a bare name is a section or a partition unless a param has it.
      if (setting.name.name === 'lr_mult' && first?.kind === 'Ref' && !params.has(first.name)) {
        use(sections.get(first.name) ?? partitions.get(first.name), first.loc);
        for (const value of rest) expression(value, new Map());
        continue;
      }
      for (const value of setting.values) expression(value, new Map());
    }
  };

  const none: Scope = new Map();
  for (const declaration of plan.declarations) {
    switch (declaration.kind) {
      case 'Param':
        expression(declaration.value, none);
        break;
      case 'Block':
      case 'Head': {
        const own = parameterScopes.get(declaration)!;
        for (const parameter of declaration.params) if (parameter.default) expression(parameter.default, own);
        items(declaration.body, own);
        break;
      }
      case 'Network':
        expression(declaration.input, none);
        for (const section of declaration.sections) items(section.body, none);
        break;
      case 'Partition':
        use(sections.get(declaration.from.name), declaration.from.loc);
        if (declaration.to) use(sections.get(declaration.to.name), declaration.to.loc);
        if (declaration.proxy) layerCall(declaration.proxy, none);
        break;
      case 'Schedule':
        settings(declaration.settings);
        for (const phase of declaration.phases) {
          if (phase.mode === 'train') use(partitions.get(phase.target.name), phase.target.loc);
          expression(phase.epochs, none);
          args(phase.optimizer.args, none);
          settings(phase.settings);
        }
        break;
      case 'Data':
        if (declaration.source.kind === 'Call') args(declaration.source.args, none);
        settings(declaration.settings);
        break;
    }
  }
  occurrences.sort((a, b) => a.range.start.offset - b.range.start.offset);
  return { occurrences, layerDefinitions, params, sections, partitions };
}

/** The occurrence whose name holds `offset` (its end included). */
export function occurrenceAt(resolution: Resolution, offset: number): Occurrence | undefined {
  return resolution.occurrences.find((o) => o.range.start.offset <= offset && offset <= o.range.end.offset);
}
