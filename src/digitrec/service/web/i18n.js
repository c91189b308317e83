// UI text in the lessons' languages. Keys are used by data-i18n (text), data-i18n-aria (aria-label) and
// data-i18n-title (tooltip) attributes in index.html, and by app.js through t().
export const LANGUAGES = {
  en: {
    skip: "Skip to the controls",
    title: "Handwritten digit recognition",
    tagline: "Draw a digit — or a whole number — and see what the model sees.",
    language: "Language",
    drawHeading: "Draw here",
    mode: "What to read",
    modeSingle: "Single digit",
    modeNumber: "Number",
    canvasLabel: "Drawing area: draw with a mouse, a finger or a pen",
    hint: "Draw a digit with your mouse, finger or pen — or drop a photo here",
    hintNumber: "Write a number, digits side by side — or drop a photo here",
    dropHere: "Drop the image to read it",
    strokeWidth: "Pen",
    undo: "Undo",
    undoKey: "Undo the last stroke (Ctrl+Z)",
    clear: "Clear",
    clearKey: "Clear the drawing (Esc)",
    upload: "Upload",
    camera: "Camera",
    resultHeading: "What the model reads",
    waiting: "Waiting for a drawing…",
    reading: "Reading…",
    blank: "Nothing to read yet",
    unsure: "Not sure — try again, a little larger",
    itIs: "It is a {digit}",
    numberIs: "It reads {text}",
    noDigits: "No digits found",
    confidence: "Confidence",
    probabilities: "Probability of each digit",
    barLabel: "{digit}: {percent}",
    seen: "The 28×28 image the model saw",
    seenEmpty: "nothing yet",
    seenDigit: "Digit {n} as the model saw it",
    wrong: "Wrong? The right digit is…",
    wrongDigit: "Digit {n} wrong? The right digit is…",
    sendFeedback: "The right digit is {digit}",
    thanks: "Thank you — saved as correction #{id} for the next training.",
    feedbackFailed: "Could not save the correction: {error}",
    model: "Model {name} · version {version} · {accuracy} on MNIST test",
    modelNoAccuracy: "Model {name} · version {version}",
    offline: "Cannot reach the recognition service — is `digitrec serve` running?",
    serverSays: "The service says: {error}",
    photoLoaded: "Photo loaded: {name}",
    notAnImage: "That file is not an image.",
    api: "API schema",
    metrics: "Metrics",
  },
  ja: {
    skip: "操作部へ移動",
    title: "手書き数字の認識",
    tagline: "数字を1文字、または数字の列を書いて、モデルに見えている画像を確かめましょう。",
    language: "言語",
    drawHeading: "ここに書く",
    mode: "読み取る対象",
    modeSingle: "数字1文字",
    modeNumber: "数字の列",
    canvasLabel: "描画エリア：マウス、指、ペンで書けます",
    hint: "マウス・指・ペンで数字を書くか、写真をここにドロップしてください",
    hintNumber: "数字を横に並べて書くか、写真をここにドロップしてください",
    dropHere: "ドロップすると読み取ります",
    strokeWidth: "ペン",
    undo: "元に戻す",
    undoKey: "最後の線を取り消す (Ctrl+Z)",
    clear: "消去",
    clearKey: "すべて消す (Esc)",
    upload: "画像を選ぶ",
    camera: "カメラ",
    resultHeading: "認識結果",
    waiting: "数字を書いてください…",
    reading: "認識中…",
    blank: "まだ何も書かれていません",
    unsure: "自信がありません。もう少し大きく書いてみてください",
    itIs: "「{digit}」です",
    numberIs: "「{text}」と読めます",
    noDigits: "数字が見つかりません",
    confidence: "確信度",
    probabilities: "各数字の確率",
    barLabel: "{digit}：{percent}",
    seen: "モデルが見た 28×28 の画像",
    seenEmpty: "まだありません",
    seenDigit: "{n} 文字目（モデルが見た画像）",
    wrong: "違いますか？ 正しい数字は…",
    wrongDigit: "{n} 文字目が違いますか？ 正しい数字は…",
    sendFeedback: "正しい数字は {digit}",
    thanks: "ありがとうございます。訂正 #{id} として保存し、次の学習に使います。",
    feedbackFailed: "訂正を保存できませんでした：{error}",
    model: "モデル {name} · バージョン {version} · MNIST テスト精度 {accuracy}",
    modelNoAccuracy: "モデル {name} · バージョン {version}",
    offline: "認識サービスに接続できません。`digitrec serve` は起動していますか？",
    serverSays: "サービスからのエラー：{error}",
    photoLoaded: "写真を読み込みました：{name}",
    notAnImage: "画像ファイルではありません。",
    api: "API スキーマ",
    metrics: "メトリクス",
  },
  ko: {
    skip: "조작 영역으로 건너뛰기",
    title: "손글씨 숫자 인식",
    tagline: "숫자 하나 또는 여러 자리 숫자를 쓰고, 모델이 보는 이미지를 확인해 보세요.",
    language: "언어",
    drawHeading: "여기에 쓰기",
    mode: "읽을 대상",
    modeSingle: "숫자 한 개",
    modeNumber: "여러 자리 숫자",
    canvasLabel: "그리기 영역: 마우스, 손가락, 펜으로 쓸 수 있습니다",
    hint: "마우스·손가락·펜으로 숫자를 쓰거나 사진을 여기에 끌어다 놓으세요",
    hintNumber: "숫자를 나란히 쓰거나 사진을 여기에 끌어다 놓으세요",
    dropHere: "놓으면 읽습니다",
    strokeWidth: "펜",
    undo: "실행 취소",
    undoKey: "마지막 획 취소 (Ctrl+Z)",
    clear: "지우기",
    clearKey: "모두 지우기 (Esc)",
    upload: "이미지 선택",
    camera: "카메라",
    resultHeading: "인식 결과",
    waiting: "숫자를 써 주세요…",
    reading: "인식 중…",
    blank: "아직 아무것도 없습니다",
    unsure: "확실하지 않습니다. 조금 더 크게 써 보세요",
    itIs: "{digit}입니다",
    numberIs: "{text}(으)로 읽힙니다",
    noDigits: "숫자를 찾지 못했습니다",
    confidence: "신뢰도",
    probabilities: "각 숫자의 확률",
    barLabel: "{digit}: {percent}",
    seen: "모델이 본 28×28 이미지",
    seenEmpty: "아직 없습니다",
    seenDigit: "{n}번째 숫자 (모델이 본 이미지)",
    wrong: "틀렸나요? 올바른 숫자는…",
    wrongDigit: "{n}번째 숫자가 틀렸나요? 올바른 숫자는…",
    sendFeedback: "올바른 숫자는 {digit}",
    thanks: "감사합니다. 수정 #{id}(으)로 저장해 다음 학습에 사용합니다.",
    feedbackFailed: "수정 내용을 저장하지 못했습니다: {error}",
    model: "모델 {name} · 버전 {version} · MNIST 테스트 정확도 {accuracy}",
    modelNoAccuracy: "모델 {name} · 버전 {version}",
    offline: "인식 서비스에 연결할 수 없습니다. `digitrec serve`가 실행 중인가요?",
    serverSays: "서비스 오류: {error}",
    photoLoaded: "사진을 불러왔습니다: {name}",
    notAnImage: "이미지 파일이 아닙니다.",
    api: "API 스키마",
    metrics: "메트릭",
  },
};

const STORAGE_KEY = "digitrec.language";
let current = "en";

/** The saved choice, else the browser's first language we have, else English. */
export function initialLanguage() {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved && LANGUAGES[saved]) return saved;
  for (const tag of navigator.languages || [navigator.language || "en"]) {
    const base = tag.toLowerCase().split("-")[0];
    if (LANGUAGES[base]) return base;
  }
  return "en";
}

export function t(key, values = {}) {
  const text = LANGUAGES[current][key] ?? LANGUAGES.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

/** Switch every labelled element of the page to ``language`` and remember the choice. */
export function applyLanguage(language, { remember = false } = {}) {
  current = LANGUAGES[language] ? language : "en";
  if (remember) localStorage.setItem(STORAGE_KEY, current);
  document.documentElement.lang = current;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
  for (const el of document.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  document.title = `digitrec — ${t("title")}`;
  return current;
}

export const language = () => current;
