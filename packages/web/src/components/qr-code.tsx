// A short link's QR code, drawn as SVG in the page (no image service, nothing leaves the browser).
import { renderSVG } from 'uqr'

export function QrCode ({ value }: { value: string }) {
  const svg = renderSVG(value, { border: 2 })
  return <figure class='qr'><div role='img' aria-label={`QR code for ${value}`} dangerouslySetInnerHTML={{ __html: svg }} /></figure>
}
