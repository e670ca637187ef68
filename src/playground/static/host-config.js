// Adaptive Cards host config close to Microsoft Teams' light theme: values from the Teams light host config in
// microsoft/AdaptiveCards (samples/HostConfig/microsoft-teams-light.json), written with the `fontTypes` key the
// 3.x renderer reads, and the newer Teams brand colour for accents.
const foreground = {
  default: { default: '#242424', subtle: '#616161' },
  dark: { default: '#252424', subtle: '#bf252424' },
  light: { default: '#ffffff', subtle: '#fff3f2f1' },
  accent: { default: '#5b5fc7', subtle: '#8b8cc7' },
  good: { default: '#237b4b', subtle: '#e5237b4b' },
  warning: { default: '#835c00', subtle: '#e5835c00' },
  attention: { default: '#c4314b', subtle: '#e5c4314b' },
};

const font = (family) => ({
  fontFamily: family,
  fontSizes: { small: 12, default: 14, medium: 14, large: 18, extraLarge: 24 },
  fontWeights: { lighter: 200, default: 400, bolder: 600 },
});

export const teamsHostConfig = {
  choiceSetInputValueSeparator: ',',
  supportsInteractivity: true,
  spacing: { small: 8, default: 12, medium: 16, large: 20, extraLarge: 24, padding: 16 },
  separator: { lineThickness: 1, lineColor: '#EEEEEE' },
  imageSizes: { small: 32, medium: 52, large: 100 },
  fontTypes: {
    default: font("'Segoe UI', 'Segoe UI Web (West European)', -apple-system, BlinkMacSystemFont, Roboto, 'Helvetica Neue', 'DejaVu Sans', sans-serif, 'Segoe UI Emoji', 'Apple Color Emoji', 'Noto Color Emoji'"),
    monospace: font("Consolas, 'Courier New', 'DejaVu Sans Mono', monospace"),
  },
  containerStyles: {
    default: { backgroundColor: '#ffffff', foregroundColors: foreground },
    emphasis: { backgroundColor: '#f5f5f5', foregroundColors: foreground },
    accent: { backgroundColor: '#e8ebfa', foregroundColors: foreground },
    good: { backgroundColor: '#f1faf1', foregroundColors: foreground },
    attention: { backgroundColor: '#fdf3f4', foregroundColors: foreground },
    warning: { backgroundColor: '#fff9f5', foregroundColors: foreground },
  },
  actions: {
    maxActions: 6,
    spacing: 'Default',
    buttonSpacing: 8,
    showCard: { actionMode: 'Inline', inlineTopMargin: 16, style: 'emphasis' },
    preExpandSingleShowCardAction: false,
    actionsOrientation: 'Horizontal',
    actionAlignment: 'Left',
  },
  adaptiveCard: { allowCustomStyle: true },
  imageSet: { imageSize: 'Medium', maxImageHeight: 100 },
  factSet: {
    title: { size: 'Default', color: 'Default', isSubtle: false, weight: 'Bolder', wrap: true, maxWidth: 150 },
    value: { size: 'Default', color: 'Default', isSubtle: false, weight: 'Default', wrap: true },
    spacing: 16,
  },
  inputs: { label: { requiredInputs: { suffix: ' *', suffixColor: 'Attention' }, optionalInputs: {} }, errorMessage: { size: 'Small', spacing: 'Small' } },
};
