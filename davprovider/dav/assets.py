"""The web interface's style sheet and script, inlined into every listing page.

Inlined (under the page's CSP nonce) rather than served from a path of their own: no
URL of ours can collide with a share, and a page is complete in one answer. Both are
small. The page works without the script; the script adds a confirmation dialog to
delete, and drag and drop with a progress bar (each dropped file is a WebDAV ``PUT``
to the folder, sent by the browser with the credentials it already holds).
"""

from __future__ import annotations

STYLE = """
:root{--fg:#1d232b;--muted:#5b6572;--bg:#fff;--line:#e3e7ec;--alt:#f6f8fa;--link:#0b5cad;
--accent:#0b5cad;--danger:#b42318;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ed;--muted:#9aa4b1;--bg:#16191d;
--line:#2c323a;--alt:#1d2126;--link:#6cb2ff;--accent:#3d8bdb;--danger:#ff7b72}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg)}
main{max-width:72rem;margin:0 auto;padding:1rem}
a{color:var(--link);text-decoration:none}a:hover,a:focus{text-decoration:underline}
header{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.5rem;
border-bottom:1px solid var(--line);padding-bottom:.5rem}
.crumbs{display:flex;flex-wrap:wrap;gap:.25rem;margin:0;padding:0;list-style:none;
font-size:1.05rem}
.crumbs li+li::before{content:"/";color:var(--muted);margin-right:.25rem}
.crumbs [aria-current]{font-weight:600}
.who{color:var(--muted);font-size:.9rem}
h1{font-size:1.4rem;margin:.75rem 0;word-break:break-all}
.notice{background:var(--alt);border-left:4px solid var(--accent);padding:.5rem .75rem}
.tools{display:flex;flex-wrap:wrap;gap:.75rem 1.5rem;align-items:center;margin:.75rem 0}
.tools form{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center;margin:0}
input,button{font:inherit}
input[type=text]{padding:.3rem .45rem;border:1px solid var(--line);border-radius:4px;
background:var(--bg);color:var(--fg);min-width:8rem}
button,.button{padding:.3rem .8rem;border:1px solid var(--accent);border-radius:4px;
background:var(--accent);color:#fff;cursor:pointer;display:inline-block}
.button:hover{text-decoration:none}
button.danger{background:var(--danger);border-color:var(--danger)}
button.plain{background:transparent;color:var(--link)}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:.45rem .5rem;border-bottom:1px solid var(--line);
vertical-align:top}
th a{color:var(--fg)}th .on::after{content:" \\2191"}th .on.desc::after{content:" \\2193"}
tbody tr:nth-child(even){background:var(--alt)}
td.name{word-break:break-all}
td.size,th.size{text-align:right;white-space:nowrap}td.date{white-space:nowrap}
.icon{display:inline-block;width:.85em;height:1.05em;margin:0 .55rem 0 .15rem;
vertical-align:-.15em;border:2px solid var(--muted);border-radius:1px 6px 1px 1px}
.dir .icon{width:1.15em;height:.95em;margin:0 .45rem 0 0;border:0;border-radius:2px;
background:#d99a1e;box-shadow:inset 0 .22em 0 #e8b54a}
details.menu summary{cursor:pointer;color:var(--link);list-style:none}
details.menu summary::-webkit-details-marker{display:none}
td.actions,th.actions{width:5.5rem}details.menu{position:relative}
details.menu .panel{position:absolute;right:0;z-index:2;min-width:17rem;padding:.5rem;
background:var(--bg);border:1px solid var(--line);border-radius:6px;
box-shadow:0 4px 14px rgba(0,0,0,.15)}
details.menu form{display:flex;flex-wrap:nowrap;gap:.3rem;margin:0 0 .4rem}
details.menu form input[type=text]{flex:1;min-width:0}
details.menu .panel a{display:inline-block;margin-top:.2rem}
.up{display:inline-block;margin:.25rem 0 .5rem}
.empty{color:var(--muted);padding:1rem .5rem}
footer{color:var(--muted);font-size:.85rem;margin-top:1.5rem;word-break:break-all}
code{font-size:.95em}
#drop{display:none}.js #drop{display:block;border:2px dashed var(--line);
border-radius:6px;padding:.6rem;text-align:center;color:var(--muted)}
#drop.over{border-color:var(--accent);color:var(--fg)}
#progress{display:none;width:100%}#progress.on{display:block}
@media (max-width:40rem){main{padding:.6rem}th.date,td.date{display:none}
td.size,th.size{font-size:.85rem}.tools{flex-direction:column;align-items:stretch}
.tools form{width:100%}input[type=text]{flex:1}}
"""

SCRIPT = """
(function(){
document.documentElement.classList.add("js");
document.querySelectorAll("form.delete").forEach(function(form){
  form.addEventListener("submit",function(event){
    var name=form.querySelector("input[name=name]").value;
    if(!window.confirm("Delete \\u201c"+name+"\\u201d? This cannot be undone.")){
      event.preventDefault();return;}
    var ok=document.createElement("input");ok.type="hidden";ok.name="confirmed";
    ok.value="yes";form.appendChild(ok);
  });
});
var drop=document.getElementById("drop");
if(!drop){return;}
var folder=document.body.getAttribute("data-folder");
var query=document.body.getAttribute("data-query");
var bar=document.getElementById("progress"),state=document.getElementById("drop-state");
function send(files,index,done){
  if(index>=files.length){window.location.reload();return;}
  var file=files[index],xhr=new XMLHttpRequest();
  xhr.open("PUT",folder+encodeURIComponent(file.name)+(query?"?"+query:""));
  xhr.upload.onprogress=function(e){
    if(e.lengthComputable){bar.value=(done+e.loaded)/total;}};
  xhr.onload=function(){
    if(xhr.status>=300){state.textContent=file.name+": "+xhr.status+" "+xhr.statusText;
      return;}
    send(files,index+1,done+file.size);};
  xhr.onerror=function(){state.textContent=file.name+": upload failed";};
  state.textContent="Uploading "+file.name+" ("+(index+1)+" of "+files.length+")";
  xhr.send(file);
}
var total=1;
["dragenter","dragover"].forEach(function(type){document.addEventListener(type,function(e){
  e.preventDefault();drop.classList.add("over");});});
document.addEventListener("dragleave",function(){drop.classList.remove("over");});
document.addEventListener("drop",function(e){
  e.preventDefault();drop.classList.remove("over");
  var files=Array.prototype.filter.call(e.dataTransfer.files,function(f){return f.size||f.type;});
  if(!files.length){return;}
  total=files.reduce(function(sum,f){return sum+f.size;},0)||1;
  bar.classList.add("on");bar.value=0;send(files,0,0);
});
})();
"""
